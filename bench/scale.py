"""Scale figures: one queue holding many waiting jobs (``bench.py --scale``).

With 1,000,000 waiting jobs on one queue it reports the memory each takes (the
events stream is capped, so at this count it is a rounding error), and times
``get_job_counts``, a page of 50 waiting jobs at the head, the middle and the
tail, ``empty()``, and ``clean()`` of 100,000 completed jobs (a tenth of the
waiting count), and for each the slowest single Redis command it caused, from
Redis's slow log.  A slow command blocks every other client of that Redis for
its whole duration, so that figure, not the total, says whether an operation
is safe on a busy server.  The slow log is switched on only on a private
server (never on a shared one).
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis

from pipeline.queue import Queue
from pipeline.settings import Settings

BATCH = 1000


class SlowLog:
    """The slowest command Redis ran meanwhile (all commands logged; private servers only)."""

    def __init__(self, client: redis.Redis, enabled: bool) -> None:
        self.client = client
        self.enabled = enabled

    def reset(self) -> None:
        """Start logging every command (only while an operation is measured: the log takes memory)."""
        if self.enabled:
            self.client.config_set("slowlog-max-len", 1_000_000)
            self.client.config_set("slowlog-log-slower-than", 0)
            self.client.slowlog_reset()

    def slowest(self) -> str:
        if not self.enabled:
            return "n/a (shared Redis)"
        entries = self.client.execute_command("SLOWLOG", "GET", -1)
        self.client.config_set("slowlog-log-slower-than", 10_000)
        self.client.slowlog_reset()
        worst: tuple[int, str] = (0, "")
        for entry in entries:
            duration, args = int(entry[2]), entry[3]
            name = args[0].decode().upper() if args else ""
            if name in ("SLOWLOG", "CONFIG"):
                continue
            if duration > worst[0]:
                worst = (duration, name)
        return f"{worst[0] / 1000:.3f} ms ({worst[1]})" if worst[1] else "-"


def timed(fn: Callable[[], Any], times: int = 1) -> tuple[float, Any]:
    """Median wall time of ``fn`` in ms over ``times`` calls, and its last result."""
    spent, result = [], None
    for _ in range(times):
        started = time.perf_counter()
        result = fn()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent), result


def fill(queue: Queue, n: int) -> None:
    data = {"user_id": 0, "email": "a@example.com"}
    for start in range(0, n, BATCH):
        queue.add_bulk([{"name": "welcome", "data": data}] * min(BATCH, n - start))


def main(redis_url: str, jobs: int, *, private: bool) -> int:
    client = redis.Redis.from_url(redis_url)
    namespace = f"s{uuid.uuid4().hex[:7]}"
    settings = Settings.from_env().replace(redis_url=redis_url, namespace=namespace, redis_explicit=True)
    slowlog = SlowLog(client, private)
    rows: list[tuple[str, str, str]] = []
    try:
        print(f"scale: adding {jobs:,} waiting jobs ...", end="", flush=True)
        waiting = Queue("big", settings=settings)
        started = time.perf_counter()
        before = int(client.info("memory")["used_memory"])
        fill(waiting, jobs)
        grown = int(client.info("memory")["used_memory"]) - before
        print(f" {time.perf_counter() - started:.1f} s", flush=True)
        rows.append(("memory per waiting job (used_memory)", f"{grown / jobs:.0f} B", "-"))

        slowlog.reset()
        ms, counts = timed(lambda: waiting.get_job_counts(), 20)
        rows.append(("get_job_counts()", f"{ms:.2f} ms", slowlog.slowest()))
        if counts["waiting"] != jobs:
            raise RuntimeError(f"expected {jobs} waiting jobs, counted {counts}")
        for label, offset in (("head", 0), ("middle", jobs // 2), ("tail", jobs - 50)):
            slowlog.reset()
            ms, page = timed(lambda o=offset: waiting.get_jobs("waiting", o, o + 49, asc=True), 5)
            if len(page) != 50:
                raise RuntimeError(f"a page at {offset} held {len(page)} jobs, not 50")
            rows.append((f"page of 50 waiting, {label}", f"{ms:.2f} ms", slowlog.slowest()))
        slowlog.reset()
        ms, emptied = timed(waiting.empty)
        if emptied != jobs:
            raise RuntimeError(f"empty() removed {emptied} jobs, not {jobs}")
        rows.append((f"empty() of {jobs:,}", f"{ms / 1000:.2f} s", slowlog.slowest()))

        finished = jobs // 10
        print(f"scale: completing {finished:,} jobs ...", end="", flush=True)
        done = Queue("done", settings=settings)
        fill(done, finished)
        store = done.store
        started = time.perf_counter()
        while True:
            taken, *_ = store.fetch(BATCH, 60_000)
            if not taken:
                break
            for job in taken:  # as a worker completes them, keeping every record
                store.complete(job.job_id, job.token, "null", -1, "welcome")
        print(f" {time.perf_counter() - started:.1f} s", flush=True)
        if done.get_completed_count() != finished:
            raise RuntimeError(f"expected {finished} completed jobs, got {done.get_job_counts()}")
        slowlog.reset()
        ms, cleaned = timed(lambda: done.clean(0, "completed"))
        rows.append((f"clean() of {finished:,} completed", f"{ms / 1000:.2f} s", slowlog.slowest()))
        if len(cleaned) != finished:
            raise RuntimeError(f"clean removed {len(cleaned)} jobs, not {finished}")
    finally:
        if private:
            client.config_set("slowlog-log-slower-than", 10_000)
            client.slowlog_reset()
        for key_batch in _batches(client.scan_iter(match=f"{namespace}:*", count=1000)):
            client.delete(*key_batch)
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'operation'.ljust(width)}  {'time':>10}  slowest Redis command it caused")
    for label, took, slowest in rows:
        print(f"{label.ljust(width)}  {took:>10}  {slowest}")
    print()
    return 0


def _batches(items: Any, size: int = 1000) -> Any:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
