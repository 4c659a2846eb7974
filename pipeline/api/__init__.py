"""The management API and dashboard (the seed's ``QueuesController``), as a mountable app.

``create_app()`` returns a FastAPI application; mount it in your own ASGI app or
run it with ``pipeline api``.  Project errors map to HTTP statuses in one
handler: a missing job or queue is 404, a bad request 400, a job in the wrong
state 409, an unreachable Redis 503.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from pipeline.api import alerts, dashboard, jobs, probes, queues
from pipeline.api.deps import UnknownQueueError
from pipeline.errors import (
    InvalidJobError,
    JobNotFoundError,
    JobStateError,
    PipelineError,
    RedisUnavailableError,
)

_STATUS: list[tuple[type[PipelineError], int]] = [
    (JobNotFoundError, 404),
    (UnknownQueueError, 404),
    (InvalidJobError, 400),
    (JobStateError, 409),
    (RedisUnavailableError, 503),
]


def create_app() -> FastAPI:
    app = FastAPI(title="pipeline", summary="Queues, jobs and workers of the job pipeline")
    app.include_router(queues.router)
    app.include_router(jobs.router)
    app.include_router(dashboard.router)
    app.include_router(probes.router)
    app.include_router(probes.metrics_router())
    app.include_router(alerts.router)

    @app.exception_handler(PipelineError)
    async def pipeline_error(request: Request, exc: PipelineError) -> JSONResponse:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
        return JSONResponse({"error": type(exc).__name__, "message": str(exc)}, status_code=status)

    return app
