"""Console login: the login page, log in and out, and the current session.

Failed logins are counted per client address and per name in Redis; past the
limit within the window, logins are refused with 429 until the window ends, even
with the right password.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from pipeline import wiring
from pipeline.api import audit, pages
from pipeline.api.auth import Principal, Role
from pipeline.api.problems import ForbiddenError, NotAuthenticatedError, TooManyLoginsError
from pipeline.api.security import (
    SESSION_COOKIE,
    auth_config,
    check_open_host,
    require,
    same_origin,
    session_principal,
)
from pipeline.keys import ApiKeys

router = APIRouter(tags=["session"])

#: Failed logins allowed per address and per name within ``LOCKOUT_WINDOW_S``.
MAX_FAILURES_PER_ADDRESS = 20
MAX_FAILURES_PER_NAME = 5
LOCKOUT_WINDOW_S = 15 * 60


class Login(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class SessionInfo(BaseModel):
    """Who is logged in, and the CSRF token every mutating request of this session must send."""

    name: str
    role: str
    via: str
    csrf: str = ""
    expires: float = 0


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page() -> HTMLResponse:
    return pages.page("login.html")


@router.post("/auth/login", responses={401: {}, 403: {}, 429: {}})
def login(body: Login, request: Request, response: Response) -> SessionInfo:
    """Log in with a name and password; sets the session cookie and returns the CSRF token."""
    if not same_origin(request):  # login CSRF: another site logging the browser in as someone else
        raise ForbiddenError("a login from a page of another origin is refused")
    config = auth_config(request)
    if not config.credentials.has_users:
        raise NotAuthenticatedError("no console users are configured (PIPELINE_API_USERS)")
    keys = ApiKeys.for_namespace(wiring.get_settings().namespace)
    by_address = keys.login_failures_from(request.client.host if request.client else "?")
    by_name = keys.login_failures_of(body.name)
    client = wiring.get_client()
    for key, limit in ((by_address, MAX_FAILURES_PER_ADDRESS), (by_name, MAX_FAILURES_PER_NAME)):
        failures = client.get(key)
        if failures is not None and int(failures) >= limit:
            ttl = int(client.ttl(key))
            audit.record(None, "login", outcome="TooManyLoginsError", who=body.name)
            raise TooManyLoginsError(max(ttl, 1))
    found = config.credentials.check_password(body.name, body.password)
    if found is None:
        pipe = client.pipeline()
        for key in (by_address, by_name):
            pipe.incr(key)
            pipe.expire(key, LOCKOUT_WINDOW_S, nx=True)
        pipe.execute()
        audit.record(None, "login", outcome="NotAuthenticatedError", who=body.name)
        raise NotAuthenticatedError("wrong name or password")
    client.delete(by_name)
    cookie, principal = config.signer.issue(*found)
    _set_cookie(request, response, cookie, config.signer.ttl_s)
    audit.record(principal, "login", outcome="ok")
    return _info(principal)


@router.post("/auth/logout", responses={401: {}, 403: {}})
def logout(
    request: Request, response: Response, principal: Annotated[Principal, Depends(require(Role.VIEWER))]
) -> dict[str, str]:
    """End this console session (its cookie stops working at once, also if it was copied)."""
    if principal.session_id:
        keys = ApiKeys.for_namespace(wiring.get_settings().namespace)
        remaining = max(int(principal.expires - time.time()), 1)
        wiring.get_client().set(keys.revoked_prefix + principal.session_id, "1", ex=remaining)
    response.delete_cookie(SESSION_COOKIE, path=_cookie_path(request))
    audit.record(principal, "logout", outcome="ok")
    return {"message": "Logged out"}


@router.get("/auth/session", responses={401: {}})
def current_session(request: Request, response: Response) -> SessionInfo:
    """The caller and, for a console session, its CSRF token.

    With no credentials configured, this starts an anonymous session, whose CSRF token
    the console sends with every change.
    """
    config = auth_config(request)
    if config.open_access:
        check_open_host(request)
    principal = session_principal(request)
    if principal is None and config.open_access and request.headers.get("authorization") is None:
        cookie, principal = config.signer.issue("anonymous", Role.ADMIN, "open")
        _set_cookie(request, response, cookie, config.signer.ttl_s)
    if principal is None:
        principal = require(Role.VIEWER)(request)
    return _info(principal)


def _info(principal: Principal) -> SessionInfo:
    return SessionInfo(
        name=principal.name,
        role=principal.role.label,
        via=principal.via,
        csrf=principal.csrf,
        expires=principal.expires,
    )


def _cookie_path(request: Request) -> str:
    return (request.scope.get("root_path") or "") + "/"


def _set_cookie(request: Request, response: Response, cookie: str, ttl_s: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=ttl_s,
        path=_cookie_path(request),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
