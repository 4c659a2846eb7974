"""Probes and metrics: ``/health`` (the process is up), ``/ready`` (Redis answers) and
``/metrics`` (Prometheus text format, read from Redis at each scrape).

``/health`` and ``/ready`` stay open for orchestrators.  ``/metrics`` runs the
dependencies in :data:`METRICS_DEPENDENCIES` first: the API's authentication
appends its viewer-token check there, so the scrape takes a viewer token.
"""

from __future__ import annotations

import redis
from fastapi import APIRouter, Response
from fastapi.params import Depends as DependsParam
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from pipeline import app as wiring
from pipeline.connection import address_of, reason_of, setting_of
from pipeline.errors import RedisUnavailableError
from pipeline.prometheus import render

#: FastAPI dependencies every ``/metrics`` request runs first (append to it before
#: ``create_app()``, e.g. the viewer-token check).
METRICS_DEPENDENCIES: list[DependsParam] = []

router = APIRouter(tags=["probes"])


@router.get("/health", summary="Liveness: the API process is up")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="Readiness: Redis answers", response_model=None)
def ready() -> dict[str, str] | JSONResponse:
    client = wiring.get_client()
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        return JSONResponse(
            {"status": "unavailable", "redis": address_of(client), "reason": reason_of(exc)}, status_code=503
        )
    return {"status": "ok"}


def metrics_router() -> APIRouter:
    """The ``/metrics`` route, guarded by the dependencies registered at the time of the call."""
    guarded = APIRouter(tags=["probes"], dependencies=list(METRICS_DEPENDENCIES))

    @guarded.get("/metrics", summary="Prometheus metrics of every queue", response_class=Response)
    def metrics() -> Response:
        try:
            return Response(render(), media_type=CONTENT_TYPE_LATEST)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            client = wiring.get_client()
            raise RedisUnavailableError(address_of(client), reason_of(exc), setting_of(client)) from None

    return guarded
