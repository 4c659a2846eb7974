"""Benchmark: tracked jobs against plain Dramatiq, in one run against one Redis.

Both sides run in this run, against the same Redis, round after round in
alternating order, and every figure is printed as a ratio of ours to plain
Dramatiq's.  What is measured, and why it is fair, is in ``bench/README.md``.

    python bench/bench.py [--redis-url URL] [--jobs N] [--quick] [--check]

Every key it writes lives under two namespaces made up for the run, and only
those keys are deleted at the end.  Nothing here flushes Redis.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import platform
import queue as queue_module
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.context import SpawnProcess
from typing import Any, Literal

import dramatiq
import redis
import redis.connection
from dramatiq.brokers.redis import RedisBroker

from pipeline import actor as pipeline_actor
from pipeline.broker import PipelineBroker, default_middleware
from pipeline.connection import redis_address
from pipeline.queue import Queue
from pipeline.settings import Settings

Side = Literal["ours", "plain"]
SIDES: tuple[Side, Side] = ("ours", "plain")

JOB_NAME = "welcome"
PROBE_NAME = "probe"
EMAIL = "a@example.com"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
#: Enqueue sides take turns every this many jobs, so a burst of load elsewhere hits all of them.
ENQUEUE_CHUNK = 1000


class BenchError(RuntimeError):
    """The benchmark could not measure what it set out to (a worker died, a queue never drained)."""


# -- configuration and targets ------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """One run's parameters (see ``--help``)."""

    redis_url: str
    jobs: int
    repeats: int
    batch: int
    processes: int
    threads: int
    latency_jobs: int
    latency_gap_ms: tuple[float, float]
    round_trip_jobs: int


@dataclass(frozen=True)
class Target:
    """A bound a figure must respect: ``figure >= limit`` or ``figure <= limit``."""

    op: Literal[">=", "<="]
    limit: float
    unit: str = "x"

    def met(self, value: float) -> bool:
        return value >= self.limit if self.op == ">=" else value <= self.limit

    def __str__(self) -> str:
        return f"{self.op} {self.limit:g}{' ' if self.unit != 'x' else ''}{self.unit}"


#: The core issue's targets (ratios of ours to plain Dramatiq) and the scheduling issue's latency bound.
TARGETS = {
    "enqueue": Target(">=", 0.9),
    "bulk": Target(">=", 3.5),
    "processing": Target(">=", 0.8),
    "memory": Target("<=", 1.5),
    "latency_p99": Target("<=", 2.0, "ms"),
}


# -- counting Redis round trips ------------------------------------------------------------------

_original_send = redis.connection.AbstractConnection.send_packed_command


@contextmanager
def counting_round_trips() -> Iterator[Callable[[], int]]:
    """Count every request this process sends to Redis (a pipeline is one).  Not used while timing."""
    sent: list[None] = []

    def send(self: redis.connection.AbstractConnection, command: Any, check_health: bool = True) -> None:
        sent.append(None)  # list.append is atomic, and worker threads share this list
        _original_send(self, command, check_health)  # type: ignore[no-untyped-call]

    redis.connection.AbstractConnection.send_packed_command = send  # type: ignore[method-assign]
    try:
        yield lambda: len(sent)
    finally:
        redis.connection.AbstractConnection.send_packed_command = _original_send  # type: ignore[method-assign]


# -- worker processes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process serves: one queue of one side, with a no-op or a latency probe handler."""

    side: Side
    redis_url: str
    namespace: str
    queue: str
    threads: int
    handler: Literal["noop", "probe"]
    probe_key: str = ""
    count_round_trips: bool = False


def _worker_broker(spec: WorkerSpec) -> dramatiq.Broker:
    """The broker and the one actor of a worker process, as a user would declare them."""
    probe_client = redis.Redis.from_url(spec.redis_url) if spec.handler == "probe" else None

    def welcome(**data: Any) -> None:
        return None

    def probe(seq: int, sent: float) -> None:
        started = time.time()
        assert probe_client is not None
        probe_client.rpush(spec.probe_key, repr(started - sent))

    fn, name = (welcome, JOB_NAME) if spec.handler == "noop" else (probe, PROBE_NAME)
    broker: dramatiq.Broker
    if spec.side == "ours":
        settings = Settings.from_env().replace(
            redis_url=spec.redis_url, namespace=spec.namespace, redis_explicit=True
        )
        broker = PipelineBroker(settings=settings, middleware=default_middleware())
        pipeline_actor(queue_name=spec.queue, job_name=name, actor_name=name, broker=broker)(fn)
    else:
        broker = RedisBroker(url=spec.redis_url, namespace=spec.namespace)  # Dramatiq's default middleware
        dramatiq.actor(actor_name=name, queue_name=spec.queue, broker=broker)(fn)
    return broker


def _worker_main(spec: WorkerSpec, reports: Any, go: Any, stop: Any) -> None:
    """Body of one worker process: build everything, report ready, start on ``go``, stop on ``stop``."""
    with counting_round_trips() if spec.count_round_trips else _no_count() as round_trips:
        broker = _worker_broker(spec)
        worker = dramatiq.Worker(broker, queues={spec.queue}, worker_threads=spec.threads)
        reports.put(("ready", os.getpid(), 0))
        go.wait()
        before = round_trips()
        worker.start()
        stop.wait()
        worker.stop(timeout=10_000)
        used = round_trips() - before
    broker.close()
    reports.put(("done", os.getpid(), used))


@contextmanager
def _no_count() -> Iterator[Callable[[], int]]:
    yield lambda: 0


class WorkerGroup:
    """``processes`` worker processes of one spec, booted and idle until :meth:`go`.

    Processes are spawned (not forked) and fully built before the clock starts,
    so interpreter start-up and imports are outside every measurement.
    """

    def __init__(self, spec: WorkerSpec, processes: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.reports = ctx.Queue()
        self.go_event = ctx.Event()
        self.stop_event = ctx.Event()
        self.procs: list[SpawnProcess] = [
            ctx.Process(
                target=_worker_main, args=(spec, self.reports, self.go_event, self.stop_event), daemon=True
            )
            for _ in range(processes)
        ]
        self.round_trips = 0

    def __enter__(self) -> WorkerGroup:
        for proc in self.procs:
            proc.start()
        self._collect("ready", timeout=60)
        return self

    def go(self) -> float:
        """Start every worker; returns the start time (``time.perf_counter``)."""
        started = time.perf_counter()
        self.go_event.set()
        return started

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.go_event.set()
        try:
            self.round_trips = sum(self._collect("done", timeout=30))
        finally:
            for proc in self.procs:
                proc.join(5)
                if proc.is_alive():
                    proc.terminate()
                    proc.join(5)

    def _collect(self, kind: str, timeout: float) -> list[int]:
        deadline = time.monotonic() + timeout
        values: list[int] = []
        while len(values) < len(self.procs):
            try:
                got, _pid, value = self.reports.get(timeout=0.2)
            except queue_module.Empty:
                dead = [p.exitcode for p in self.procs if p.exitcode not in (None, 0)]
                if dead or time.monotonic() > deadline:
                    raise BenchError(
                        f"worker processes did not report {kind!r} (exit codes {dead})"
                    ) from None
                continue
            if got == kind:
                values.append(value)
        return values


# -- measurements --------------------------------------------------------------------------------


@dataclass
class Figures:
    """Everything measured, per side, one entry per round."""

    enqueue: dict[Side, list[float]] = field(default_factory=lambda: {"ours": [], "plain": []})
    bulk: list[float] = field(default_factory=list)
    processing: dict[Side, list[float]] = field(default_factory=lambda: {"ours": [], "plain": []})
    memory: dict[Side, list[float]] = field(default_factory=lambda: {"ours": [], "plain": []})
    memory_usage: dict[Side, list[float]] = field(default_factory=lambda: {"ours": [], "plain": []})
    latency_ms: dict[Side, list[float]] = field(default_factory=lambda: {"ours": [], "plain": []})
    trips_add: dict[Side, float] = field(default_factory=dict)
    trips_bulk_batch: float = 0.0
    trips_processed: dict[Side, float] = field(default_factory=dict)


class Bench:
    """One benchmark run: its namespaces, producers, measurements and clean-up."""

    def __init__(self, config: Config) -> None:
        self.config = config
        tag = uuid.uuid4().hex[:7]
        # Short on purpose: every job key of ours carries the namespace and the queue name.
        self.namespace: dict[Side, str] = {"ours": f"b{tag}", "plain": f"b{tag}-dq"}
        self.settings = Settings.from_env().replace(
            redis_url=config.redis_url, namespace=self.namespace["ours"], redis_explicit=True
        )
        self.client = redis.Redis.from_url(config.redis_url)
        self.figures = Figures()

    # -- producers -----------------------------------------------------------------------------

    def queue(self, name: str) -> Queue:
        return Queue(name, settings=self.settings)

    def plain_actor(self, queue_name: str, actor_name: str = JOB_NAME) -> dramatiq.Actor[Any, Any]:
        """A producer-side handle: what a service calls ``.send()`` on.

        One broker per queue: Dramatiq refuses a second actor of the same name on a broker,
        and every queue's messages name the same actor, as the worker declares it.
        """

        def handler(**data: Any) -> None:
            return None

        broker = RedisBroker(url=self.config.redis_url, namespace=self.namespace["plain"])
        broker.client.ping()  # connect before any clock starts
        return dramatiq.actor(actor_name=actor_name, queue_name=queue_name, broker=broker)(handler)

    def plain_pending(self, queue_name: str) -> int:
        """Messages of a plain queue not yet acknowledged (acked messages leave ``.msgs``)."""
        return int(self.client.hlen(f"{self.namespace['plain']}:{queue_name}.msgs"))

    # -- 1, 2 and 4: enqueue throughput and bytes per waiting job --------------------------------

    def enqueue_round(self, round_no: int) -> None:
        """Single add, plain send and add_bulk, interleaved chunk by chunk so all three see the same load.

        The round's single-add and send queues stay filled: ``processing_round`` drains them.
        """
        n, batch = self.config.jobs, self.config.batch
        name = f"email{round_no}"
        ours, plain, bulk = self.queue(name), self.plain_actor(name), self.queue(f"bulk{round_no}")
        ours.get_waiting_count()  # connect before the clock starts (plain_actor connects too)
        bulk.get_waiting_count()
        add, send = ours.add, plain.send
        kinds = ("ours", "plain", "bulk")
        elapsed = dict.fromkeys(kinds, 0.0)
        grown = dict.fromkeys(kinds, 0)
        chunk = max(batch, ENQUEUE_CHUNK // batch * batch)
        for index, first in enumerate(range(0, n, chunk)):
            ids = range(first, min(first + chunk, n))
            shift = (index + round_no) % 3
            for kind in kinds[shift:] + kinds[:shift]:
                before = self._memory_snapshot()
                if kind == "ours":
                    started = time.perf_counter()
                    for i in ids:
                        add(JOB_NAME, {"user_id": i, "email": EMAIL})
                elif kind == "plain":
                    started = time.perf_counter()
                    for i in ids:
                        send(user_id=i, email=EMAIL)
                else:
                    specs = [{"name": JOB_NAME, "data": {"user_id": i, "email": EMAIL}} for i in ids]
                    started = time.perf_counter()
                    for start in range(0, len(specs), batch):
                        bulk.add_bulk(specs[start : start + batch])
                elapsed[kind] += time.perf_counter() - started
                grown[kind] += self._memory_snapshot() - before
        for side in SIDES:
            self.figures.enqueue[side].append(n / elapsed[side])
            self.figures.memory[side].append(grown[side] / n)
            self.figures.memory_usage[side].append(self._memory_usage(self._queue_keys(side, name)) / n)
        self.figures.bulk.append(n / elapsed["bulk"])
        bulk.empty()

    def _memory_snapshot(self) -> int:
        return int(self.client.info("memory")["used_memory"])

    def _queue_keys(self, side: Side, queue_name: str) -> list[bytes]:
        """Every key one queue of one side holds (records, lists, sets, streams), found by SCAN."""
        namespace = self.namespace[side]
        if side == "ours":
            patterns = [f"{namespace}:{{{queue_name}}}:*"]
        else:
            patterns = [f"{namespace}:{queue_name}", f"{namespace}:{queue_name}.*"]
        return [key for pattern in patterns for key in self.client.scan_iter(match=pattern, count=1000)]

    def _memory_usage(self, keys: list[bytes]) -> int:
        total = 0
        for start in range(0, len(keys), 1000):
            pipe = self.client.pipeline(transaction=False)
            for key in keys[start : start + 1000]:
                pipe.memory_usage(key, samples=0)
            total += sum(int(v or 0) for v in pipe.execute())
        return total

    # -- 3: processing throughput --------------------------------------------------------------

    def processing_round(self, round_no: int) -> None:
        """Drain the round's pre-filled queues (``enqueue_round`` filled them) with each side's workers."""
        order = SIDES if round_no % 2 == 1 else SIDES[::-1]
        for side in order:
            self.figures.processing[side].append(self._drain(side, f"email{round_no}", self.config.jobs))

    def _drain(self, side: Side, queue_name: str, n: int, *, count_round_trips: bool = False) -> float:
        """Jobs per second from starting the workers to the last job acknowledged."""
        spec = WorkerSpec(
            side,
            self.config.redis_url,
            self.namespace[side],
            queue_name,
            self.config.threads,
            "noop",
            count_round_trips=count_round_trips,
        )
        ours = self.queue(queue_name)
        if side == "ours":

            def drained() -> bool:
                return sum(ours.get_job_counts("completed", "failed").values()) >= n
        else:

            def drained() -> bool:
                return self.plain_pending(queue_name) == 0

        timeout = max(60.0, n / 100)
        with WorkerGroup(spec, self.config.processes) as group:
            started = group.go()
            finished = _wait_until(drained, timeout, f"{side} workers to drain {queue_name!r}")
        if count_round_trips:
            self.figures.trips_processed[side] = group.round_trips / n
        if side == "ours":
            counts = ours.get_job_counts("completed", "failed")
            if counts["failed"] or counts["completed"] != n:
                raise BenchError(f"ours: expected {n} completed jobs, got {counts}")
        else:
            dead = self.client.hlen(f"{self.namespace['plain']}:{queue_name}.XQ.msgs")
            if dead:
                raise BenchError(f"plain: {dead} messages were dead-lettered")
        return n / (finished - started)

    # -- 5: pickup latency ---------------------------------------------------------------------

    def latency(self, side: Side) -> None:
        """Handler start minus add time, for jobs added one at a time to an idle worker."""
        key = f"{self.namespace[side]}:bench-latency"
        spec = WorkerSpec(
            side, self.config.redis_url, self.namespace[side], "probe", self.config.threads, "probe", key
        )
        produce: Callable[[int, float], object]
        if side == "ours":
            ours = self.queue("probe")
            ours.get_waiting_count()

            def produce(seq: int, sent: float) -> object:
                return ours.add(PROBE_NAME, {"seq": seq, "sent": sent})
        else:
            send = self.plain_actor("probe", PROBE_NAME).send

            def produce(seq: int, sent: float) -> object:
                return send(seq=seq, sent=sent)

        n, (low, high) = self.config.latency_jobs, self.config.latency_gap_ms
        with WorkerGroup(spec, 1) as group:
            group.go()
            time.sleep(1.0)  # let the worker go idle: blocked (ours) or backed off (plain Dramatiq)
            for seq in range(n):
                time.sleep(random.uniform(low, high) / 1000)
                produce(seq, time.time())
            _wait_until(lambda: int(self.client.llen(key)) >= n, 30, f"{side} probes to run")
        self.figures.latency_ms[side] = [float(v) * 1000 for v in self.client.lrange(key, 0, -1)]

    # -- round trips (counted on separate, untimed passes) -------------------------------------

    def round_trips(self) -> None:
        n = self.config.round_trip_jobs
        ours, plain = self.queue("rt"), self.plain_actor("rt")
        ours.add(JOB_NAME, {"user_id": 0, "email": EMAIL})  # first add also registers the queue
        plain.send(user_id=0, email=EMAIL)
        with counting_round_trips() as sent:
            for i in range(n):
                ours.add(JOB_NAME, {"user_id": i, "email": EMAIL})
            self.figures.trips_add["ours"] = sent() / n
        with counting_round_trips() as sent:
            for i in range(n):
                plain.send(user_id=i, email=EMAIL)
            self.figures.trips_add["plain"] = sent() / n
        specs = [{"name": JOB_NAME, "data": {"user_id": i, "email": EMAIL}} for i in range(self.config.batch)]
        with counting_round_trips() as sent:
            ours.add_bulk(specs)
            self.figures.trips_bulk_batch = float(sent())
        queued = n + 1 + self.config.batch
        self._drain("ours", "rt", queued, count_round_trips=True)
        for i in range(queued - n - 1):
            plain.send(user_id=i, email=EMAIL)
        self._drain("plain", "rt", queued, count_round_trips=True)

    # -- clean-up ------------------------------------------------------------------------------

    def cleanup(self) -> int:
        """Delete every key of this run's two namespaces (and nothing else)."""
        deleted = 0
        for namespace in self.namespace.values():
            batch: list[bytes] = []
            for key in self.client.scan_iter(match=f"{namespace}:*", count=1000):
                batch.append(key)
                if len(batch) == 1000:
                    deleted += int(self.client.delete(*batch))
                    batch = []
            if batch:
                deleted += int(self.client.delete(*batch))
        return deleted

    def warm_up(self) -> None:
        """Load both sides' scripts and open connections, so no round pays for it."""
        ours, plain = self.queue("warm"), self.plain_actor("warm")
        for i in range(200):
            ours.add(JOB_NAME, {"user_id": i, "email": EMAIL})
            plain.send(user_id=i, email=EMAIL)


def _wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.005) -> float:
    """Poll until ``predicate()``; returns the ``time.perf_counter`` at which it first held."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
    return time.perf_counter()


# -- report --------------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def _spread(ours: list[float], plain: list[float]) -> str:
    ratios = [o / p for o, p in zip(ours, plain, strict=True) if p]
    if len(ratios) < 2:
        return ""
    return f"{min(ratios):.2f}-{max(ratios):.2f}"


def report(config: Config, figures: Figures) -> bool:
    """Print the table; returns whether every target was met."""
    med = statistics.median
    rows: list[tuple[str, str, str, str, str, str, str]] = []
    all_met = True

    def row(label: str, ours: str, plain: str, ratio: float | None, target: str, spread: str = "") -> None:
        nonlocal all_met
        verdict = ""
        if target:
            met = TARGETS[target].met(ratio if ratio is not None else float("nan"))
            all_met &= met
            verdict = "PASS" if met else "MISS"
        ratio_text = (
            "" if ratio is None else (f"{ratio:.2f} ms" if target == "latency_p99" else f"{ratio:.2f}x")
        )
        rows.append((label, ours, plain, ratio_text, spread, str(TARGETS[target]) if target else "", verdict))

    enq_o, enq_p = med(figures.enqueue["ours"]), med(figures.enqueue["plain"])
    row(
        "enqueue: add() vs send()",
        f"{enq_o:,.0f} jobs/s",
        f"{enq_p:,.0f} jobs/s",
        enq_o / enq_p,
        "enqueue",
        _spread(figures.enqueue["ours"], figures.enqueue["plain"]),
    )
    bulk = med(figures.bulk)
    row(
        f"enqueue: add_bulk({config.batch}) vs add()",
        f"{bulk:,.0f} jobs/s",
        f"(add) {enq_o:,.0f} jobs/s",
        bulk / enq_o,
        "bulk",
        _spread(figures.bulk, figures.enqueue["ours"]),
    )
    pro_o, pro_p = med(figures.processing["ours"]), med(figures.processing["plain"])
    row(
        f"processing: no-op, {config.processes}p x {config.threads}t",
        f"{pro_o:,.0f} jobs/s",
        f"{pro_p:,.0f} jobs/s",
        pro_o / pro_p,
        "processing",
        _spread(figures.processing["ours"], figures.processing["plain"]),
    )
    mem_o, mem_p = med(figures.memory["ours"]), med(figures.memory["plain"])
    row(
        "bytes/waiting job (used_memory)",
        f"{mem_o:,.0f} B",
        f"{mem_p:,.0f} B",
        mem_o / mem_p,
        "memory",
        _spread(figures.memory["ours"], figures.memory["plain"]),
    )
    use_o, use_p = med(figures.memory_usage["ours"]), med(figures.memory_usage["plain"])
    row("bytes/waiting job (MEMORY USAGE)", f"{use_o:,.0f} B", f"{use_p:,.0f} B", use_o / use_p, "")
    lat_o, lat_p = figures.latency_ms["ours"], figures.latency_ms["plain"]
    low, high = config.latency_gap_ms
    row(
        "pickup latency p50, idle worker",
        f"{percentile(lat_o, 50):.2f} ms",
        f"{percentile(lat_p, 50):.2f} ms",
        None,
        "",
    )
    row(
        "pickup latency p99, idle worker",
        f"{percentile(lat_o, 99):.2f} ms",
        f"{percentile(lat_p, 99):.2f} ms",
        percentile(lat_o, 99),
        "latency_p99",
    )
    row(
        "Redis round trips per add()",
        f"{figures.trips_add['ours']:.2f}",
        f"{figures.trips_add['plain']:.2f}",
        None,
        "",
    )
    row(f"Redis round trips per add_bulk({config.batch})", f"{figures.trips_bulk_batch:.0f}", "-", None, "")
    row(
        "Redis round trips per processed job",
        f"{figures.trips_processed['ours']:.2f}",
        f"{figures.trips_processed['plain']:.2f}",
        None,
        "",
    )

    header = ("figure", "ours", "plain Dramatiq", "ratio", "spread", "target", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    for line in [header, tuple("-" * w for w in widths), *rows]:
        print(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            )
        )
    print()
    print(
        f"ratio: ours / plain Dramatiq, medians of {config.repeats} round(s); "
        "spread: lowest-highest per-round ratio."
    )
    print(
        f"latency: {len(lat_o)} / {len(lat_p)} jobs, {low:g}-{high:g} ms apart, "
        "handler start minus the producer's clock just before add()/send()."
    )
    if abs(mem_o / use_o - 1) > 0.1 or abs(mem_p / use_p - 1) > 0.1:
        print(
            "memory noise: used_memory and MEMORY USAGE disagree by over 10%; something else was writing "
            "to this Redis while bytes were measured (MEMORY USAGE counts only this run's keys)."
        )
    return all_met


# -- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> tuple[Config, bool]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        help="Redis to measure against (default: $REDIS_URL, else %(default)s)",
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="jobs per side per round (default 10000; quick 2000)"
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="rounds, medians reported (default 5; quick 1)"
    )
    parser.add_argument("--batch", type=int, default=500, help="add_bulk batch size (default %(default)s)")
    parser.add_argument(
        "--processes", type=int, default=1, help="worker processes per side (default %(default)s)"
    )
    parser.add_argument(
        "--threads", type=int, default=8, help="threads per worker process (default %(default)s)"
    )
    parser.add_argument(
        "--latency-jobs", type=int, default=None, help="probe jobs per side (default 1000; quick 200)"
    )
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run (smoke test, noisier)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    jobs = args.jobs or (2000 if args.quick else 10_000)
    config = Config(
        redis_url=args.redis_url,
        jobs=jobs,
        repeats=args.repeats or (1 if args.quick else 5),
        batch=args.batch,
        processes=args.processes,
        threads=args.threads,
        latency_jobs=args.latency_jobs or (200 if args.quick else 1000),
        latency_gap_ms=(5.0, 10.0),
        round_trip_jobs=min(jobs, 500),
    )
    for name in ("jobs", "repeats", "batch", "processes", "threads", "latency_jobs"):
        if getattr(config, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return config, args.check


def main(argv: list[str] | None = None) -> int:
    config, check = parse_args(argv)
    address = redis_address(config.redis_url)
    try:
        server = redis.Redis.from_url(config.redis_url, socket_connect_timeout=2).info("server")
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        print(
            f"bench: cannot reach Redis at {address}: {exc}\n"
            "Start one (redis-server) or pass --redis-url / set REDIS_URL.",
            file=sys.stderr,
        )
        return 2
    print(
        f"Redis {server.get('redis_version')} at {address}; Python {platform.python_version()}, "
        f"Dramatiq {dramatiq.__version__}, {os.cpu_count()} CPUs"
    )
    print(
        f"{config.jobs:,} jobs per side per round, {config.repeats} round(s), workers "
        f"{config.processes} process(es) x {config.threads} threads"
    )

    bench = Bench(config)
    try:
        bench.warm_up()
        for round_no in range(config.repeats):
            print(f"round {round_no + 1}/{config.repeats}: enqueue ...", end="", flush=True)
            bench.enqueue_round(round_no)
            print(" processing ...", end="", flush=True)
            bench.processing_round(round_no)
            print(" done", flush=True)
        print("pickup latency ...", end="", flush=True)
        for side in SIDES:
            bench.latency(side)
        print(" round trips ...", end="", flush=True)
        bench.round_trips()
        print(" done", flush=True)
    except BenchError as exc:
        print(f"\nbench: {exc}", file=sys.stderr)
        return 2
    finally:
        bench.cleanup()
    met = report(config, bench.figures)
    if not met:
        print("Some targets were missed." + ("" if check else " (--check makes that exit 1)"))
    return 1 if check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
