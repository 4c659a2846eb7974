"""MetricsExporter: the ``dramatiq`` command serves Prometheus metrics when asked."""

from __future__ import annotations

from collections.abc import Callable

from dramatiq.middleware import Middleware

from pipeline import wiring


class MetricsExporter(Middleware):
    """With ``PIPELINE_METRICS_PORT`` set, one extra process per ``dramatiq`` command serves
    ``/metrics`` on that port (the same series as the API's, read from Redis); unset, nothing."""

    @property
    def forks(self) -> list[Callable[[], int]]:
        if not wiring.get_settings().metrics_port:
            return []
        # Deferred: only a worker asked to serve metrics pays for loading prometheus_client.
        from pipeline.prometheus import serve_worker_metrics

        return [serve_worker_metrics]
