"""The console's pages and the OpenAPI docs, all served from files installed with the package.

Every page loads its scripts and styles from this server only (no CDN), under a
Content-Security-Policy that allows no inline script.  The docs use the Swagger UI
and ReDoc builds shipped by the ``fastapi-offline`` package, so they work offline.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.api.auth import Role
from pipeline.api.problems import NotAuthenticatedError
from pipeline.api.security import SESSION_COOKIE, auth_config, require
from pipeline.connection import UNAVAILABLE_ERRORS
from pipeline.errors import RedisUnavailableError

router = APIRouter()

#: The console's policy: scripts, styles and connections to this origin only, never framed.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
#: Swagger UI and ReDoc set inline styles and ReDoc runs a blob: worker; scripts stay same-origin.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

_STATIC = resources.files(__package__) / "static"


@cache
def _read(name: str) -> str:
    return (_STATIC / name).read_text(encoding="utf-8")


def page(name: str, status_code: int = 200, csp: str = CSP) -> HTMLResponse:
    return HTMLResponse(_read(name), status_code=status_code, headers={"Content-Security-Policy": csp})


_UNREACHABLE: tuple[type[Exception], ...] = (RedisUnavailableError, *UNAVAILABLE_ERRORS)


def _signed_in(request: Request) -> bool:
    try:
        require(Role.VIEWER)(request)
    except NotAuthenticatedError:
        return False
    except _UNREACHABLE:
        # The page holds no data: with Redis away, a validly signed cookie is enough to load
        # it, and the page then shows that Redis is unreachable (every data call is a 503).
        cookie = request.cookies.get(SESSION_COOKIE, "")
        return auth_config(request).signer.read(cookie) is not None
    return True


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def dashboard(request: Request) -> HTMLResponse:
    """The console; without a session, a 401 page that sends the browser to the login page."""
    if not _signed_in(request):
        return page("signin-needed.html", status_code=401)
    return page("dashboard.html")


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def swagger_ui(request: Request) -> HTMLResponse:
    if not _signed_in(request):
        return page("signin-needed.html", status_code=401)
    return page("docs.html", csp=DOCS_CSP)


@router.get("/redoc", response_class=HTMLResponse, include_in_schema=False)
def redoc(request: Request) -> HTMLResponse:
    if not _signed_in(request):
        return page("signin-needed.html", status_code=401)
    return page("redoc.html", csp=DOCS_CSP)


def mount(app: FastAPI) -> None:
    """Add the pages, the OpenAPI document (viewer role), and the static files (public:
    the login page needs them, and they hold no data)."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(_STATIC)), name="static")
    docs_assets = resources.files("fastapi_offline") / "static"
    app.mount("/docs-assets", StaticFiles(directory=str(docs_assets)), name="docs-assets")

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> JSONResponse:
        require(Role.VIEWER)(request)
        return JSONResponse(app.openapi())


class SecurityHeaders:
    """Adds the strict CSP (unless a page set its own) and the usual hardening headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in (
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ):
                    if name not in present:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
