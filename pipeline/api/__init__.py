"""The management API and console (the seed's ``QueuesController``), as a mountable app.

``create_app()`` returns a FastAPI application; mount it in your own ASGI app or
run it with ``pipeline api``.  Every route needs credentials (a bearer token, or a
console session plus its CSRF token for changes) except the login page, the
static files and the probes ``/health`` and ``/ready``; roles are in
:class:`~pipeline.api.auth.Role`.  Every error has one shape, described in
:mod:`pipeline.api.problems`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from pipeline import wiring
from pipeline.api import alerts, jobs, live, pages, probes, problems, queues, session
from pipeline.api.auth import Credentials, Role
from pipeline.api.security import CSRF_HEADER, SESSION_COOKIE, AuthConfig, require

__all__ = ["create_app"]


_ERROR_STATUSES = {
    "401": "No credentials, or credentials that are not valid",
    "403": "A role below the route's, or a change without its CSRF token",
    "422": "The request does not match the schema",
    "503": "Redis cannot be reached",
}


def create_app(credentials: Credentials | None = None) -> FastAPI:
    """The API and console.  ``credentials`` default to the configured ones
    (``PIPELINE_API_TOKENS``, ``PIPELINE_API_USERS``, ``PIPELINE_API_CREDENTIALS_FILE``)."""
    app = FastAPI(
        title="pipeline",
        summary="Queues, jobs and workers of the job pipeline",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.auth = AuthConfig.build(wiring.get_settings(), credentials)
    viewer = [Depends(require(Role.VIEWER))]
    app.include_router(session.router)
    app.include_router(queues.router, dependencies=viewer)
    app.include_router(jobs.router, dependencies=viewer)
    app.include_router(live.router, dependencies=viewer)
    app.include_router(alerts.router, dependencies=viewer)
    # Orchestrators probe without credentials; a Prometheus scrape takes a viewer token.
    app.include_router(probes.router)
    app.include_router(probes.metrics_router(viewer))
    pages.mount(app)
    problems.install(app)
    app.add_middleware(pages.SecurityHeaders)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with our error shape in place of its validation-error schema
    and the two ways to authenticate."""
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(title=app.title, version="1", summary=app.summary, routes=app.routes)
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Error"] = problems.ErrorBody.model_json_schema()
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer"},
        "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
        "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER},
    }
    spec["security"] = [{"bearer": []}, {"session": [], "csrf": []}]
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, text in _ERROR_STATUSES.items():
                responses[code] = {"description": text, "content": error}
            for code, response in responses.items():
                if code[0] in "45":
                    response.setdefault("description", "Error")
                    response["content"] = error
    app.openapi_schema = spec
    return spec
