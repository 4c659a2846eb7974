"""Benchmark: tracked jobs against plain Dramatiq, in one run against one Redis.

Both sides run in this run, against the same Redis, round after round in
alternating order, at every worker shape (processes x threads), and every
figure is printed as a ratio of ours to plain Dramatiq's.  What is measured,
and why it is fair, is in ``bench/README.md``.

    python bench/bench.py [--quick] [--shapes 1x8,2x8,2x16] [--redis-url URL] [--check]
    python bench/bench.py --scale [--quick]      # one queue with 1,000,000 waiting jobs

Without ``--redis-url`` it starts a private ``redis-server`` on a free loopback
port, so Redis's CPU and command counts are this run's alone.  Every key it
writes lives under two namespaces made up for the run, and only those keys are
deleted at the end.  Nothing here flushes Redis.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from workers import (
    JOB_NAME,
    PROBE_NAME,
    SIDES,
    BenchError,
    Profiler,
    Shape,
    Side,
    WorkerGroup,
    WorkerSpec,
    counting_round_trips,
)

from pipeline.connection import redis_address
from pipeline.embedded import EmbeddedRedis
from pipeline.queue import Queue
from pipeline.settings import Settings

EMAIL = "a@example.com"
DEFAULT_SHAPES = "1x8,2x8,2x16"
#: Enqueue sides take turns every this many jobs, so a burst of load elsewhere hits all of them.
ENQUEUE_CHUNK = 1000


# -- configuration and targets ------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """One run's parameters (see ``--help``)."""

    redis_url: str
    jobs: int
    repeats: int
    batch: int
    shapes: tuple[Shape, ...]
    latency_jobs: int
    latency_gap_ms: tuple[float, float]
    round_trip_jobs: int
    profile_dir: str = ""


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


#: Ratios of ours to plain Dramatiq, and absolute bounds on ours (bytes, milliseconds).
TARGETS = {
    "enqueue": Target(">=", 0.9),
    "bulk": Target(">=", 3.5),
    "processing": Target(">=", 1.0),
    "worker_cpu": Target("<=", 1.0),
    "bytes": Target("<=", 320, "B"),
    "latency_p50": Target("<=", 1.0, "ms"),
    "latency_p99_1": Target("<=", 2.0, "ms"),  # one worker process
    "latency_p99_n": Target("<=", 3.0, "ms"),  # several worker processes competing for the CPUs
}


# -- measurements --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drain:
    """One side draining one pre-filled queue at one shape."""

    jobs_per_s: float
    worker_cpu_us: float | None  # per job, user + system of every worker process
    redis_cpu_us: float  # per job, INFO cpu of the Redis server
    round_trips: float  # per job, requests the workers sent
    commands: float  # per job, commands Redis ran, those inside scripts included


def _pair() -> dict[Side, list[Any]]:
    return {"ours": [], "plain": []}


@dataclass
class Figures:
    """Everything measured, per side, one entry per round (per shape where workers run)."""

    enqueue: dict[Side, list[float]] = field(default_factory=_pair)
    bulk: list[float] = field(default_factory=list)
    drains: dict[Shape, dict[Side, list[Drain]]] = field(default_factory=dict)
    memory: dict[Side, list[float]] = field(default_factory=_pair)
    memory_usage: dict[Side, list[float]] = field(default_factory=_pair)
    #: Of memory_usage, what the queue's events stream took (plain Dramatiq has none).
    memory_events: dict[Side, list[float]] = field(default_factory=_pair)
    latency_ms: dict[Shape, dict[Side, list[float]]] = field(default_factory=dict)
    trips_add: dict[Side, float] = field(default_factory=dict)
    trips_bulk_batch: float = 0.0


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

    @staticmethod
    def queue_name(round_no: int, shape_no: int) -> str:
        return f"e{round_no}s{shape_no}"

    # -- enqueue throughput and bytes per waiting job ------------------------------------------

    def enqueue_round(self, round_no: int) -> None:
        """Single add, plain send and add_bulk, interleaved chunk by chunk so all three see the same load.

        The timed adds and sends fill the first shape's queues; the other shapes' queues are
        filled the same way, untimed.  ``processing_round`` drains them all.
        """
        n, batch = self.config.jobs, self.config.batch
        name = self.queue_name(round_no, 0)
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
            keys = self._queue_keys(side, name)
            self.figures.memory_usage[side].append(self._memory_usage(keys) / n)
            events = [key for key in keys if side == "ours" and key.endswith(b":events")]
            self.figures.memory_events[side].append(self._memory_usage(events) / n)
        self.figures.bulk.append(n / elapsed["bulk"])
        bulk.empty()
        for shape_no in range(1, len(self.config.shapes)):
            other = self.queue_name(round_no, shape_no)
            specs = [{"name": JOB_NAME, "data": {"user_id": i, "email": EMAIL}} for i in range(n)]
            for start in range(0, n, batch):  # the same records as single adds write
                self.queue(other).add_bulk(specs[start : start + batch])
            send = self.plain_actor(other).send
            for i in range(n):
                send(user_id=i, email=EMAIL)

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

    # -- processing throughput and cost per job ------------------------------------------------

    def processing_round(self, round_no: int) -> None:
        """Drain the round's pre-filled queues with each side's workers, at every shape."""
        for shape_no, shape in enumerate(self.config.shapes):
            order = SIDES if (round_no + shape_no) % 2 == 1 else SIDES[::-1]
            per_side = self.figures.drains.setdefault(shape, _pair())
            for side in order:
                name = self.queue_name(round_no, shape_no)
                per_side[side].append(self._drain(side, name, self.config.jobs, shape))

    def _redis_counters(self) -> tuple[float, int]:
        cpu = self.client.info("cpu")
        stats = self.client.info("stats")
        return (
            float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]),
            int(stats["total_commands_processed"]),
        )

    def _drain(self, side: Side, queue_name: str, n: int, shape: Shape) -> Drain:
        """Start the workers, wait until the last job is acknowledged; what it took per job."""
        spec = WorkerSpec(
            side, self.config.redis_url, self.namespace[side], queue_name, shape.threads, "noop"
        )
        ours = self.queue(queue_name)
        if side == "ours":

            def drained() -> bool:
                return sum(ours.get_job_counts("completed", "failed").values()) >= n
        else:

            def drained() -> bool:
                return self.plain_pending(queue_name) == 0

        timeout = max(60.0, n / 100)
        with WorkerGroup(spec, shape.processes) as group:
            profiler = None
            if self.config.profile_dir:
                pids = [p.pid or 0 for p in group.procs]
                profiler = Profiler(self.config.profile_dir, f"{side}-{shape}-{queue_name}", pids)
            cpu_before = group.cpu_s()
            redis_before = self._redis_counters()
            started = group.go()
            finished = _wait_until(drained, timeout, f"{side} workers to drain {queue_name!r}")
            cpu_after = group.cpu_s()
            redis_after = self._redis_counters()
            if profiler is not None:
                profiler.stop()
        if side == "ours":
            counts = ours.get_job_counts("completed", "failed")
            if counts["failed"] or counts["completed"] != n:
                raise BenchError(f"ours: expected {n} completed jobs, got {counts}")
        else:
            dead = self.client.hlen(f"{self.namespace['plain']}:{queue_name}.XQ.msgs")
            if dead:
                raise BenchError(f"plain: {dead} messages were dead-lettered")
        if cpu_before is not None and cpu_after is not None:
            worker_cpu: float | None = (cpu_after - cpu_before) / n * 1e6
        else:
            worker_cpu = group.self_reported_cpu_s / n * 1e6
        return Drain(
            jobs_per_s=n / (finished - started),
            worker_cpu_us=worker_cpu,
            redis_cpu_us=(redis_after[0] - redis_before[0]) / n * 1e6,
            round_trips=group.round_trips / n,
            commands=(redis_after[1] - redis_before[1]) / n,
        )

    # -- pickup latency ------------------------------------------------------------------------

    def latency(self, side: Side, shape: Shape) -> None:
        """Handler start minus add time, for jobs added one at a time to idle workers."""
        key = f"{self.namespace[side]}:bench-latency-{shape}"
        queue_name = f"probe{shape}"
        spec = WorkerSpec(
            side, self.config.redis_url, self.namespace[side], queue_name, shape.threads, "probe", key
        )
        produce: Callable[[int, float], object]
        if side == "ours":
            ours = self.queue(queue_name)
            ours.get_waiting_count()

            def produce(seq: int, sent: float) -> object:
                return ours.add(PROBE_NAME, {"seq": seq, "sent": sent})
        else:
            send = self.plain_actor(queue_name, PROBE_NAME).send

            def produce(seq: int, sent: float) -> object:
                return send(seq=seq, sent=sent)

        n, (low, high) = self.config.latency_jobs, self.config.latency_gap_ms
        with WorkerGroup(spec, shape.processes) as group:
            group.go()
            time.sleep(1.0)  # let the workers go idle: blocked (ours) or backed off (plain Dramatiq)
            for seq in range(n):
                time.sleep(random.uniform(low, high) / 1000)
                produce(seq, time.time())
            _wait_until(lambda: int(self.client.llen(key)) >= n, 30, f"{side} probes to run")
        samples = [float(v) * 1000 for v in self.client.lrange(key, 0, -1)]
        self.figures.latency_ms.setdefault(shape, _pair())[side] = samples

    # -- round trips of producers (counted on a separate, untimed pass) ------------------------

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


class Table:
    """The report's rows, with a verdict wherever a target applies."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []
        self.all_met = True

    def row(
        self,
        label: str,
        ours: str,
        plain: str,
        ratio: float | None = None,
        target: str = "",
        spread: str = "",
        judged: float | None = None,
    ) -> None:
        """``judged`` is what the target bounds: the ratio unless given (an absolute figure of ours)."""
        verdict = ""
        if target:
            value = judged if judged is not None else ratio
            met = TARGETS[target].met(value if value is not None else float("nan"))
            self.all_met &= met
            verdict = "PASS" if met else "MISS"
        ratio_text = "" if ratio is None else f"{ratio:.2f}x"
        self.rows.append(
            (label, ours, plain, ratio_text, spread, str(TARGETS[target]) if target else "", verdict)
        )

    def print(self) -> None:
        header = ("figure", "ours", "plain Dramatiq", "ratio", "spread", "target", "")
        widths = [max(len(r[i]) for r in [header, *self.rows]) for i in range(len(header))]
        print()
        for line in [header, tuple("-" * w for w in widths), *self.rows]:
            print(
                "  ".join(
                    cell.ljust(w) if i == 0 else cell.rjust(w)
                    for i, (cell, w) in enumerate(zip(line, widths, strict=True))
                )
            )
        print()


def report(config: Config, figures: Figures) -> bool:
    """Print the table; returns whether every target was met."""
    med = statistics.median
    table = Table()
    enq_o, enq_p = med(figures.enqueue["ours"]), med(figures.enqueue["plain"])
    table.row(
        "enqueue: add() vs send()",
        f"{enq_o:,.0f} jobs/s",
        f"{enq_p:,.0f} jobs/s",
        enq_o / enq_p,
        "enqueue",
        _spread(figures.enqueue["ours"], figures.enqueue["plain"]),
    )
    bulk = med(figures.bulk)
    table.row(
        f"enqueue: add_bulk({config.batch}) vs add()",
        f"{bulk:,.0f} jobs/s",
        f"(add) {enq_o:,.0f} jobs/s",
        bulk / enq_o,
        "bulk",
        _spread(figures.bulk, figures.enqueue["ours"]),
    )
    mem_o, mem_p = med(figures.memory["ours"]), med(figures.memory["plain"])
    ev_o = med(figures.memory_events["ours"])
    table.row("bytes/waiting job (used_memory)", f"{mem_o:,.0f} B", f"{mem_p:,.0f} B", mem_o / mem_p)
    use_o, use_p = med(figures.memory_usage["ours"]), med(figures.memory_usage["plain"])
    table.row("bytes/waiting job (MEMORY USAGE)", f"{use_o:,.0f} B", f"{use_p:,.0f} B", use_o / use_p)
    table.row("  of which the events stream (MEMORY USAGE)", f"{ev_o:,.0f} B", "-")
    table.row(
        "bytes/waiting job, events stream at its cap",
        f"{mem_o - ev_o:,.0f} B",
        f"{mem_p:,.0f} B",
        (mem_o - ev_o) / mem_p,
        "bytes",
        judged=mem_o - ev_o,
    )
    for shape, per_side in figures.drains.items():
        ours, plain = per_side["ours"], per_side["plain"]

        def figure(name: str, drains: list[Drain]) -> list[float]:
            return [getattr(d, name) for d in drains]

        rate_o, rate_p = figure("jobs_per_s", ours), figure("jobs_per_s", plain)
        table.row(
            f"{shape} processing, no-op",
            f"{med(rate_o):,.0f} jobs/s",
            f"{med(rate_p):,.0f} jobs/s",
            med(rate_o) / med(rate_p),
            "processing",
            _spread(rate_o, rate_p),
        )
        if all(d.worker_cpu_us is not None for d in ours + plain):
            cpu_o, cpu_p = figure("worker_cpu_us", ours), figure("worker_cpu_us", plain)
            table.row(
                f"{shape} worker CPU per job",
                f"{med(cpu_o):.0f} us",
                f"{med(cpu_p):.0f} us",
                med(cpu_o) / med(cpu_p),
                "worker_cpu",
                _spread(cpu_o, cpu_p),
            )
        red_o, red_p = figure("redis_cpu_us", ours), figure("redis_cpu_us", plain)
        table.row(
            f"{shape} Redis CPU per job",
            f"{med(red_o):.0f} us",
            f"{med(red_p):.0f} us",
            med(red_o) / med(red_p),
            spread=_spread(red_o, red_p),
        )
        trips_o, trips_p = figure("round_trips", ours), figure("round_trips", plain)
        table.row(
            f"{shape} round trips per job",
            f"{med(trips_o):.2f}",
            f"{med(trips_p):.2f}",
            med(trips_o) / med(trips_p),
        )
        cmd_o, cmd_p = figure("commands", ours), figure("commands", plain)
        table.row(
            f"{shape} Redis commands per job",
            f"{med(cmd_o):.1f}",
            f"{med(cmd_p):.1f}",
            med(cmd_o) / med(cmd_p),
        )
    for shape, latency in figures.latency_ms.items():
        lat_o, lat_p = latency["ours"], latency["plain"]
        p50_o, p99_o = percentile(lat_o, 50), percentile(lat_o, 99)
        table.row(
            f"{shape} pickup p50, idle workers",
            f"{p50_o:.2f} ms",
            f"{percentile(lat_p, 50):.2f} ms",
            target="latency_p50",
            judged=p50_o,
        )
        table.row(
            f"{shape} pickup p99, idle workers",
            f"{p99_o:.2f} ms",
            f"{percentile(lat_p, 99):.2f} ms",
            target="latency_p99_1" if shape.processes == 1 else "latency_p99_n",
            judged=p99_o,
        )
    table.row(
        "Redis round trips per add()", f"{figures.trips_add['ours']:.2f}", f"{figures.trips_add['plain']:.2f}"
    )
    table.row(f"Redis round trips per add_bulk({config.batch})", f"{figures.trips_bulk_batch:.0f}", "-")
    table.print()
    low, high = config.latency_gap_ms
    print(
        f"ratio: ours / plain Dramatiq, medians of {config.repeats} round(s) of {config.jobs:,} jobs; "
        "spread: lowest-highest per-round ratio."
    )
    print("CPU: user + system from the OS (workers: every worker process; Redis: INFO cpu), per job.")
    print("commands: every command Redis ran per job, the ones inside Lua scripts included.")
    print(
        f"latency: {config.latency_jobs} jobs per side and shape, {low:g}-{high:g} ms apart, "
        "handler start minus the producer's clock just before add()/send()."
    )
    if abs(mem_o / use_o - 1) > 0.1 or abs(mem_p / use_p - 1) > 0.1:
        print(
            "memory noise: used_memory and MEMORY USAGE disagree by over 10%; something else was writing "
            "to this Redis while bytes were measured (MEMORY USAGE counts only this run's keys)."
        )
    return table.all_met


# -- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, Config]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--redis-url",
        default=None,
        help="an existing Redis to measure against (default: a private redis-server, "
        "else $REDIS_URL or redis://127.0.0.1:6379/0)",
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="jobs per side, shape and round (default 10000; quick 2000)"
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="rounds, medians reported (default 3; quick 1)"
    )
    parser.add_argument("--batch", type=int, default=500, help="add_bulk batch size (default %(default)s)")
    parser.add_argument(
        "--shapes",
        default=DEFAULT_SHAPES,
        help="worker shapes, processes x threads, comma-separated (default %(default)s)",
    )
    parser.add_argument(
        "--latency-jobs",
        type=int,
        default=None,
        help="probe jobs per side and shape (default 1000; quick 200)",
    )
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run (a few minutes, noisier)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        default="",
        help="record every worker process with py-spy while it drains (collapsed stacks in DIR)",
    )
    parser.add_argument(
        "--scale", action="store_true", help="run the scale figures instead (see bench/scale.py)"
    )
    parser.add_argument(
        "--scale-jobs",
        type=int,
        default=None,
        help="waiting jobs of the scale run (default 1000000; quick 100000)",
    )
    args = parser.parse_args(argv)
    jobs = args.jobs or (2000 if args.quick else 10_000)
    try:
        shapes = tuple(Shape.parse(s) for s in args.shapes.split(",") if s.strip())
    except ValueError as exc:
        parser.error(f"--shapes: {exc}")
    if not shapes:
        parser.error("--shapes: give at least one, e.g. 1x8")
    config = Config(
        redis_url=args.redis_url or "",
        jobs=jobs,
        repeats=args.repeats or (1 if args.quick else 3),
        batch=args.batch,
        shapes=shapes,
        latency_jobs=args.latency_jobs or (200 if args.quick else 1000),
        latency_gap_ms=(5.0, 10.0),
        round_trip_jobs=min(jobs, 500),
        profile_dir=args.profile,
    )
    for name in ("jobs", "repeats", "batch", "latency_jobs"):
        if getattr(config, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args, config


def private_redis() -> EmbeddedRedis | None:
    """A redis-server of this run alone, on a free loopback port, if the binary is installed."""
    binary = shutil.which("redis-server")
    return None if binary is None else EmbeddedRedis(binary)


def main(argv: list[str] | None = None) -> int:
    args, config = parse_args(argv)
    server = None
    if not args.redis_url:
        server = private_redis()
        url = server.url if server else os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
        config = Config(**{**config.__dict__, "redis_url": url})
    try:
        if args.scale:
            import scale

            jobs = args.scale_jobs or (100_000 if args.quick else 1_000_000)
            return scale.main(config.redis_url, jobs, private=server is not None)
        return run(config, args.check, private=server is not None)
    finally:
        if server is not None:
            server.stop()


def run(config: Config, check: bool, *, private: bool) -> int:
    address = redis_address(config.redis_url)
    try:
        info = redis.Redis.from_url(config.redis_url, socket_connect_timeout=2).info("server")
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        print(
            f"bench: cannot reach Redis at {address}: {exc}\n"
            "Install redis-server (the bench starts a private one) or pass --redis-url.",
            file=sys.stderr,
        )
        return 2
    print(
        f"Redis {info.get('redis_version')} at {address} ({'private' if private else 'shared'}); "
        f"Python {platform.python_version()}, Dramatiq {dramatiq.__version__}, {os.cpu_count()} CPUs"
    )
    print(
        f"{config.jobs:,} jobs per side, shape and round, {config.repeats} round(s), shapes "
        + ", ".join(map(str, config.shapes))
    )
    if not private:
        print("Redis is shared: its CPU and command counts include other clients' work.")

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
        for shape in config.shapes:
            for side in SIDES:
                bench.latency(side, shape)
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
