"""Probes and metrics: ``/health`` (the process is up), ``/ready`` (Redis answers) and
``/metrics`` (Prometheus text format, read from Redis at each scrape).

``/health`` and ``/ready`` stay open for orchestrators.  ``/metrics`` takes a
viewer token (``create_app`` passes its viewer check) and also runs whatever
is in :data:`METRICS_DEPENDENCIES`, for an embedding app's own checks.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Response
from fastapi.params import Depends as DependsParam
from prometheus_client import CONTENT_TYPE_LATEST

from pipeline import wiring
from pipeline.connection import UNAVAILABLE_ERRORS, address_of, ping, reason_of, setting_of
from pipeline.errors import RedisUnavailableError
from pipeline.prometheus import render

#: FastAPI dependencies every ``/metrics`` request runs first (append to it before
#: ``create_app()``, e.g. the viewer-token check).
METRICS_DEPENDENCIES: list[DependsParam] = []

router = APIRouter(tags=["probes"])


@router.get("/health", summary="Liveness: the API process is up")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="Readiness: Redis answers (503 in the API's error shape if not)")
def ready() -> dict[str, str]:
    ping(wiring.get_client())
    return {"status": "ok"}


def metrics_router(dependencies: Sequence[DependsParam] = ()) -> APIRouter:
    """The ``/metrics`` route, guarded by ``dependencies`` (the app's viewer check) and those in
    :data:`METRICS_DEPENDENCIES` at the time of the call."""
    guarded = APIRouter(tags=["probes"], dependencies=[*dependencies, *METRICS_DEPENDENCIES])

    @guarded.get("/metrics", summary="Prometheus metrics of every queue", response_class=Response)
    def metrics() -> Response:
        try:
            return Response(render(), media_type=CONTENT_TYPE_LATEST)
        except UNAVAILABLE_ERRORS as exc:
            client = wiring.get_client()
            raise RedisUnavailableError(address_of(client), reason_of(exc), setting_of(client)) from None

    return guarded
