"""Prometheus metrics, read from Redis at scrape time.

Every figure lives in Redis (counted by the scripts that move jobs), so any
process can serve the same numbers: the API at ``/metrics`` and, when
``PIPELINE_METRICS_PORT`` is set, the ``dramatiq`` worker command on that port
(:func:`serve_worker_metrics`, a Dramatiq fork process).  Series:

=====================================================  =======  =======================
name                                                   type     labels
=====================================================  =======  =======================
``pipeline_queue_jobs``                                gauge    queue, state
``pipeline_jobs_completed_total``                      counter  queue, name
``pipeline_jobs_failed_total``                         counter  queue, name
``pipeline_job_duration_seconds``                      histo.   queue, name
``pipeline_queue_oldest_waiting_age_seconds``          gauge    queue
``pipeline_queue_paused``                              gauge    queue
``pipeline_queue_rate_limited_jobs``                   gauge    queue
``pipeline_jobs_stalled_total``                        counter  queue
``pipeline_queue_workers``                             gauge    queue
=====================================================  =======  =======================

``state`` is waiting, paused, delayed, active, completed or failed; a paused
queue's waiting jobs count as ``paused``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import cast

import redis
from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from pipeline import wiring
from pipeline.keys import queues_set
from pipeline.metrics import DURATION_BUCKETS_MS, get_workers, oldest_waiting_age_ms
from pipeline.queue import Queue
from pipeline.settings import Settings
from pipeline.states import COUNT_KEYS, STATES, EventName, JobState

logger = logging.getLogger(__name__)

STATE_LABELS = COUNT_KEYS


class QueueCollector(Collector):
    """Collects every queue of the namespace from Redis on each scrape."""

    def __init__(self, settings: Settings | None = None, client: redis.Redis | None = None) -> None:
        self._settings = settings
        self._client = client

    def _queues(self) -> list[Queue]:
        settings = self._settings or wiring.get_settings()
        client = self._client or wiring.get_client()
        names = sorted(m.decode() for m in cast(set[bytes], client.smembers(queues_set(settings.namespace))))
        return [Queue(name, client=client, settings=settings) for name in names]

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily | HistogramMetricFamily]:
        jobs = GaugeMetricFamily("pipeline_queue_jobs", "Jobs in each state.", labels=["queue", "state"])
        completed = CounterMetricFamily(
            "pipeline_jobs_completed", "Jobs completed, by job name.", labels=["queue", "name"]
        )
        failed = CounterMetricFamily(
            "pipeline_jobs_failed",
            "Jobs failed for good (attempts used up), by job name.",
            labels=["queue", "name"],
        )
        duration = HistogramMetricFamily(
            "pipeline_job_duration_seconds",
            "Processing time of completed jobs (last attempt).",
            labels=["queue", "name"],
            unit="",
        )
        oldest = GaugeMetricFamily(
            "pipeline_queue_oldest_waiting_age_seconds",
            "How long the next job to run has waited (0: none waiting).",
            labels=["queue"],
        )
        paused = GaugeMetricFamily("pipeline_queue_paused", "1 when the queue is paused.", labels=["queue"])
        limited = GaugeMetricFamily(
            "pipeline_queue_rate_limited_jobs",
            "Waiting jobs held back by a per-group rate limit.",
            labels=["queue"],
        )
        stalled = CounterMetricFamily(
            "pipeline_jobs_stalled", "Jobs whose worker stopped renewing their lock.", labels=["queue"]
        )
        workers = GaugeMetricFamily(
            "pipeline_queue_workers", "Live worker processes serving the queue.", labels=["queue"]
        )
        for queue in self._queues():
            self._collect_queue(
                queue, jobs, completed, failed, duration, oldest, paused, limited, stalled, workers
            )
        yield from (jobs, completed, failed, duration, oldest, paused, limited, stalled, workers)

    def _collect_queue(
        self,
        queue: Queue,
        jobs: GaugeMetricFamily,
        completed: CounterMetricFamily,
        failed: CounterMetricFamily,
        duration: HistogramMetricFamily,
        oldest: GaugeMetricFamily,
        paused: GaugeMetricFamily,
        limited: GaugeMetricFamily,
        stalled: CounterMetricFamily,
        workers: GaugeMetricFamily,
    ) -> None:
        name = queue.name
        counts = queue.get_job_counts(*STATES)
        for state in STATE_LABELS:
            jobs.add_metric([name, state], counts.get(state, 0))
        keys = queue.store.keys
        pipe = queue.client.pipeline(transaction=False)
        pipe.hgetall(keys.metric_totals)
        pipe.zcard(keys.limited)
        pipe.hget(keys.meta, "paused")
        totals_raw, n_limited, paused_flag = pipe.execute()
        totals = {k.decode(): int(v) for k, v in totals_raw.items()}
        buckets: dict[str, dict[str, int]] = {}
        for field, value in totals.items():
            kind, _, rest = field.partition(":")
            if kind == JobState.FAILED:
                failed.add_metric([name, rest], value)
            elif kind == "bucket":
                job_name, _, bound = rest.rpartition(":")
                buckets.setdefault(job_name, {})[bound] = value
        for job_name, per_bucket in sorted(buckets.items()):
            cumulative, series = 0, []
            for bound in DURATION_BUCKETS_MS:
                cumulative += per_bucket.get(str(bound), 0)
                series.append((_seconds(bound), float(cumulative)))
            cumulative += per_bucket.get("inf", 0)
            series.append(("+Inf", float(cumulative)))
            # Every completion counts in one bucket: their sum is the completed count.
            completed.add_metric([name, job_name], cumulative)
            sum_s = totals.get(f"sum:{job_name}", 0) / 1000
            duration.add_metric([name, job_name], series, sum_s)
        oldest.add_metric([name], _oldest_waiting_s(queue))
        paused.add_metric([name], 1 if paused_flag == b"1" else 0)
        limited.add_metric([name], int(n_limited))
        stalled.add_metric([name], totals.get(EventName.STALLED, 0))
        workers.add_metric([name], len(get_workers(queue)))


def _seconds(bound_ms: int) -> str:
    return repr(bound_ms / 1000)


def _oldest_waiting_s(queue: Queue) -> float:
    age_ms = oldest_waiting_age_ms(queue)
    return 0.0 if age_ms is None else age_ms / 1000


def registry(settings: Settings | None = None, client: redis.Redis | None = None) -> CollectorRegistry:
    """A registry holding only the queue collector (no process metrics of the serving process)."""
    out = CollectorRegistry(auto_describe=False)
    out.register(QueueCollector(settings, client))
    return out


def render(settings: Settings | None = None, client: redis.Redis | None = None) -> bytes:
    """The metrics in Prometheus's text format."""
    return generate_latest(registry(settings, client))


def serve_worker_metrics() -> int:
    """Dramatiq fork function: serve ``/metrics`` on ``PIPELINE_METRICS_PORT`` until stopped."""
    settings = wiring.get_settings()
    server, thread = start_http_server(
        settings.metrics_port, settings.metrics_host, registry=registry(settings)
    )
    logger.info("Serving Prometheus metrics on %s:%d", settings.metrics_host, settings.metrics_port)
    try:
        thread.join()
    finally:
        server.shutdown()
    return 0
