"""Queue metrics (BullMQ's ``getMetrics``) and worker health, read from Redis.

Completions and failures are counted per job name and minute by the same
scripts that finish jobs, in a ring of one week of minutes: fixed memory.
The sizes below are the scripts' too: ``--- @include "metrics"`` renders them
into Lua (:func:`lua_definitions`).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from pipeline.errors import InvalidJobError
from pipeline.states import FINAL_STATES, JobState

if TYPE_CHECKING:
    from pipeline.queue import Queue

#: Minutes a job name's count ring holds (a week).
RING_MINUTES = 10_080
#: Durations kept per job name for percentiles (the newest).
DURATIONS_KEPT = 1_000
#: Upper bounds (ms) of the duration histogram Prometheus reads (the scripts count into them).
DURATION_BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 900000)


def lua_definitions() -> str:
    """The sizes as Lua locals, for the ``metrics`` include."""
    buckets = ", ".join(str(bound) for bound in DURATION_BUCKETS_MS)
    return (
        "-- Metric sizes, rendered from pipeline/metrics.py.\n"
        f"local METRIC_RING_MINUTES = {RING_MINUTES}\n"
        f"local METRIC_DURATIONS_KEPT = {DURATIONS_KEPT}\n"
        f"local DURATION_BUCKETS_MS = {{{buckets}}}\n"
    )


@dataclass(frozen=True)
class Metrics:
    """Finished-job figures of one queue.

    Attributes:
        kind: ``completed`` or ``failed``.
        data: jobs per minute, newest minute first (index 0 is the current minute).
        count: the sum of ``data``.
        per_name: ``count`` split by job name.
        duration_ms: processing-time percentiles (p50, p90, p99, max) of the newest
            ``DURATIONS_KEPT`` completed jobs of each name asked for.
        oldest_waiting_age_ms: how long the next job to run has waited (None: none waiting).
    """

    kind: str
    data: list[int]
    count: int
    per_name: dict[str, int] = field(default_factory=dict)
    duration_ms: dict[str, float] = field(default_factory=dict)
    oldest_waiting_age_ms: int | None = None


def get_metrics(queue: Queue, kind: str, start: int, end: int, name: str | None) -> Metrics:
    if kind not in FINAL_STATES:
        raise InvalidJobError(f"metrics kind must be 'completed' or 'failed', got {kind!r}", queue=queue.name)
    keys = queue.store.keys
    client = queue.client
    members = cast(set[bytes], client.smembers(keys.metric_names))
    names = [name] if name else sorted(n.decode() for n in members)
    pipe = client.pipeline(transaction=False)
    for job_name in names:
        pipe.hgetall(keys.metric_ring(kind, job_name))
        pipe.lrange(keys.metric_durations(job_name), 0, -1)
    replies = pipe.execute()
    now_minute = queue.store.clock() // 60_000
    last = RING_MINUTES - 1 if end < 0 or end >= RING_MINUTES else end
    width = max(last - start + 1, 0)
    data = [0] * width
    per_name: dict[str, int] = {}
    durations: list[float] = []
    for index, job_name in enumerate(names):
        ring, raw_durations = replies[2 * index], replies[2 * index + 1]
        total = 0
        for minute_field, count_raw in ring.items():
            age = now_minute - int(minute_field)
            if start <= age <= last:
                data[age - start] += int(count_raw)
                total += int(count_raw)
        per_name[job_name] = total
        durations += [float(d) for d in raw_durations[:DURATIONS_KEPT]]
    return Metrics(
        kind=kind,
        data=data,
        count=sum(data),
        per_name=per_name,
        duration_ms=_percentiles(durations) if kind == JobState.COMPLETED else {},
        oldest_waiting_age_ms=oldest_waiting_age_ms(queue),
    )


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    if len(values) == 1:
        return {"p50": values[0], "p90": values[0], "p99": values[0], "max": values[0]}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49], "p90": cuts[89], "p99": cuts[98], "max": max(values)}


def oldest_waiting_age_ms(queue: Queue) -> int | None:
    """How long the next job to run has waited, on this process's clock (``None``: none waits)."""
    ids = queue.store.ids(JobState.WAITING, 0, 0, True)
    if not ids:
        return None
    job = queue.get_job(ids[0])
    return None if job is None else max(queue.store.clock() - job.timestamp, 0)


def get_workers(queue: Queue) -> list[dict[str, Any]]:
    """Live worker processes serving ``queue``; entries past three missed heartbeats are dropped."""
    key = queue.store.keys.workers
    stale_before = queue.store.clock() - 3 * queue.settings.worker_heartbeat_ms
    workers, stale = [], []
    for worker_id, raw in queue.client.hgetall(key).items():
        entry = json.loads(raw)
        if entry.get("last_heartbeat", 0) < stale_before:
            stale.append(worker_id)
        else:
            workers.append(entry)
    if stale:
        queue.client.hdel(key, *stale)
    return sorted(workers, key=lambda w: str(w["id"]))
