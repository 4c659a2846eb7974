"""Request guards: who is calling (bearer token or session cookie), whether its role
suffices, and, for a cookie-carried request that changes something, its CSRF token.

A bearer token is never sent by a browser on its own, so token requests need no CSRF
token; a session cookie is, so every mutating cookie request must also carry the
session's CSRF token in ``X-CSRF-Token`` (which a page on another origin can neither
read nor send: a form cannot set headers, and a ``no-cors`` fetch may not).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from pipeline import wiring
from pipeline.api import audit
from pipeline.api.auth import Credentials, Principal, Role, SessionSigner
from pipeline.api.problems import ForbiddenError, NotAuthenticatedError
from pipeline.errors import PipelineError
from pipeline.keys import ApiKeys
from pipeline.settings import Settings

SESSION_COOKIE = "pipeline_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class AuthConfig:
    """The app's credentials and session signer; ``open_access`` when none are configured."""

    credentials: Credentials
    signer: SessionSigner

    @classmethod
    def build(cls, settings: Settings, credentials: Credentials | None = None) -> AuthConfig:
        secret = settings.api_secret or secrets.token_hex(32)
        return cls(
            credentials or Credentials.from_settings(settings),
            SessionSigner(secret, settings.api_session_ttl_s),
        )

    @property
    def open_access(self) -> bool:
        return self.credentials.empty


def auth_config(request: Request) -> AuthConfig:
    config = request.app.state.auth
    assert isinstance(config, AuthConfig)
    return config


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from a page of another origin."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" == f"{request.url.scheme}://{request.headers.get('host', '')}"


def check_open_host(request: Request) -> None:
    """With no credentials, serve only requests addressed to an IP or ``localhost``.

    A page whose own domain name is re-pointed at this address (DNS rebinding) is
    same-origin with it in the browser and could read and change everything; its
    requests carry that domain name in ``Host``, so they are refused here.
    """
    host = urlsplit("//" + request.headers.get("host", "")).hostname or ""
    if host == "localhost":
        return
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ForbiddenError(
            f"with no credentials configured the API answers only to an IP address or localhost, "
            f"not to the host name {host!r}: configure credentials to serve a host name"
        ) from None


def session_principal(request: Request) -> Principal | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    principal = auth_config(request).signer.read(cookie)
    if principal is None:
        return None
    revoked = ApiKeys.for_namespace(wiring.get_settings().namespace).revoked_prefix + principal.session_id
    if wiring.get_client().exists(revoked):
        return None
    return principal


def authenticate(request: Request) -> Principal:
    """The caller, or 401.  Mutating cookie requests must carry the session's CSRF token."""
    config = auth_config(request)
    if config.open_access:
        check_open_host(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticatedError("the Authorization header must be 'Bearer <token>'")
        found = config.credentials.check_token(token.strip())
        if found is None:
            raise NotAuthenticatedError("the bearer token is not valid")
        return found
    principal = session_principal(request)
    if principal is None:
        if config.open_access and request.method in SAFE_METHODS:
            return Principal("anonymous", Role.ADMIN, "open")
        if config.open_access:
            raise ForbiddenError(
                f"no credentials are configured, so a change needs the CSRF token of a console "
                f"session: GET auth/session, then send its cookie and the {CSRF_HEADER} header"
            )
        raise NotAuthenticatedError("log in (POST auth/login) or send 'Authorization: Bearer <token>'")
    if request.method not in SAFE_METHODS:
        if not same_origin(request):
            raise ForbiddenError("a change from a page of another origin is refused")
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent.encode(), principal.csrf.encode()):
            raise ForbiddenError(f"a change made with a session cookie needs the {CSRF_HEADER} header")
    return principal


def require(role: Role) -> Callable[[Request], Principal]:
    """A dependency: the caller, who must hold at least ``role`` (else 401/403)."""

    def check(request: Request) -> Principal:
        principal = authenticate(request)
        if principal.role < role:
            raise ForbiddenError(
                f"this needs the {role.label} role; {principal.name!r} is a {principal.role.label}"
            )
        return principal

    check.__name__ = f"require_{role.label}"
    return check


def acting(role: Role) -> Callable[[Request], Iterator[Principal]]:
    """A dependency for mutating routes: ``require(role)``, then one audit entry for the
    action (the route's name), its queue and job, and its outcome."""

    def guard(request: Request) -> Iterator[Principal]:
        action = getattr(request.scope.get("route"), "name", request.url.path)
        queue = str(request.path_params.get("queue", ""))
        job = str(request.path_params.get("job_id", ""))
        try:
            principal = require(role)(request)
        except ForbiddenError as exc:
            known = _known_caller(request)
            if known is not None:
                audit.record(known, action, outcome="forbidden", queue=queue, job=job, detail=str(exc))
            raise
        try:
            yield principal
        except PipelineError as exc:
            audit.record(principal, action, outcome=type(exc).__name__, queue=queue, job=job, detail=str(exc))
            raise
        audit.record(principal, action, outcome="ok", queue=queue, job=job)

    guard.__name__ = f"acting_{role.label}"
    return guard


def _known_caller(request: Request) -> Principal | None:
    try:
        config = auth_config(request)
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return config.credentials.check_token(header[7:].strip())
        return session_principal(request)
    except PipelineError:
        return None


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(acting(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(acting(Role.ADMIN))]
