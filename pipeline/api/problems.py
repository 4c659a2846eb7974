"""One error shape for every error the API returns, and the status of each kind.

Every error body is ``{"error": <kind>, "message": <one line>, "status": <code>}``,
plus the fields that say what it is about (``queue``, ``job_id``, ``fields``,
``retry_after``).  Statuses:

- 400 ``InvalidJobError`` / ``InvalidRequestError``: the engine refused the values.
- 401 ``NotAuthenticatedError``: no credentials, or credentials that are not valid.
- 403 ``ForbiddenError``: a role below the route's, or a mutating request without its
  CSRF token or from another origin.
- 404 ``JobNotFoundError``, ``UnknownQueueError``, ``NotFoundError`` (a repeat, ...),
  ``NotFound`` (no such route).
- 405 ``MethodNotAllowed``.
- 409 ``JobStateError``, ``QueueBusyError``: the job or queue is not in a state that allows it.
- 422 ``ValidationError``: the request does not match the schema (``fields`` lists each problem).
- 429 ``TooManyLoginsError``: too many failed logins; ``retry_after`` seconds.
- 503 ``RedisUnavailableError``: Redis cannot be reached (on every route), also a cluster
  or Sentinel set in the middle of a failover or resharding (the errors workers wait out).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from redis.exceptions import RedisClusterException
from starlette.exceptions import HTTPException

from pipeline import errors, wiring
from pipeline.connection import UNAVAILABLE_ERRORS, describe, describe_error, is_unavailable, setting_name

logger = logging.getLogger("pipeline.api")


class NotAuthenticatedError(errors.PipelineError):
    """The request carries no credentials, or credentials that are not valid."""


class ForbiddenError(errors.PipelineError):
    """The caller is known but may not do this (role too low, or a CSRF check failed)."""


class TooManyLoginsError(errors.PipelineError):
    """Too many failed logins from this address or for this name; try again later."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed logins: try again in {retry_after} s")


class InvalidRequestError(errors.PipelineError):
    """A request's values were refused (a page too large, a bad search window, ...)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class NotFoundError(errors.PipelineError):
    """Something the request names (a repeat, ...) does not exist."""


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str
    message: str
    status: int


_STATUS: list[tuple[type[BaseException], int]] = [
    (NotAuthenticatedError, 401),
    (ForbiddenError, 403),
    (errors.JobNotFoundError, 404),
    (NotFoundError, 404),
    (errors.InvalidJobError, 400),
    (InvalidRequestError, 400),
    (errors.UnknownQueueError, 404),
    (errors.JobStateError, 409),
    (errors.QueueBusyError, 409),
    (TooManyLoginsError, 429),
    (errors.RedisUnavailableError, 503),
]
_ATTRIBUTES = ("queue", "job_id", "state", "field", "retry_after", "active")


def error_response(status: int, kind: str, message: str, **extra: Any) -> JSONResponse:
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 429 and "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    body = {"error": kind, "message": message, "status": status, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Route every error, whatever raised it, to one JSON shape."""

    @app.exception_handler(errors.PipelineError)
    async def pipeline_error(request: Request, exc: errors.PipelineError) -> JSONResponse:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
        extra = {a: getattr(exc, a) for a in _ATTRIBUTES if getattr(exc, a, None) is not None}
        if status == 500:
            logger.error("Unhandled project error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(status, type(exc).__name__, str(exc), **extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{f['location']}: {f['message']}" for f in fields[:5]) or "invalid request"
        return error_response(422, "ValidationError", summary, fields=fields)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404:
            message = f"no route {request.method} {request.url.path}"
        return error_response(exc.status_code, kind, message)

    async def redis_down(request: Request, exc: Exception) -> JSONResponse:
        # Redis calls that bypass the Queue API (sets, streams) surface redis-py's own errors.
        settings = wiring.get_settings()
        down = errors.RedisUnavailableError(describe(settings), describe_error(exc), setting_name(settings))
        return error_response(503, "RedisUnavailableError", str(down))

    for unavailable in UNAVAILABLE_ERRORS:
        app.add_exception_handler(unavailable, redis_down)

    @app.exception_handler(RedisClusterException)
    async def cluster_error(request: Request, exc: RedisClusterException) -> JSONResponse:
        # A cluster client's slot-map refresh that found a slot without a master, or no node.
        if is_unavailable(exc):
            return await redis_down(request, exc)
        return await unexpected(request, exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "InternalError", "internal error (logged on the server)")
