"""Worker processes of the benchmark, and what the OS says they cost.

Each side runs the same ``dramatiq.Worker`` in spawned processes that are
fully built (imports, broker, actor) before the clock starts; they wait on an
event.  CPU time is read from the OS: ``/proc/<pid>/stat`` (user + system, all
threads) by the bench process, at the instants the clock starts and stops, so
start-up and shutdown are outside it.  Without ``/proc`` each worker reports
its own ``os.times()`` from start to stop instead.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from typing import Any, Literal

import dramatiq
import redis
import redis.connection
from dramatiq.brokers.redis import RedisBroker

from pipeline import actor as pipeline_actor
from pipeline.broker import PipelineBroker
from pipeline.composition import default_middleware
from pipeline.settings import Settings

Side = Literal["ours", "plain"]
SIDES: tuple[Side, Side] = ("ours", "plain")
JOB_NAME = "welcome"
PROBE_NAME = "probe"
_TICK_S = 1 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01


class BenchError(RuntimeError):
    """The benchmark could not measure what it set out to (a worker died, a queue never drained)."""


@dataclass(frozen=True, order=True)
class Shape:
    """A worker deployment: ``processes`` worker processes of ``threads`` threads each."""

    processes: int
    threads: int

    def __str__(self) -> str:
        return f"{self.processes}x{self.threads}"

    @classmethod
    def parse(cls, text: str) -> Shape:
        processes, _, threads = text.strip().partition("x")
        shape = cls(int(processes), int(threads))
        if shape.processes < 1 or shape.threads < 1:
            raise ValueError(f"a shape needs at least 1 process and 1 thread, got {text!r}")
        return shape


# -- counting Redis round trips ------------------------------------------------------------------

_original_send = redis.connection.AbstractConnection.send_packed_command


@contextmanager
def counting_round_trips() -> Iterator[Callable[[], int]]:
    """Count every request this process sends to Redis (a pipeline is one).

    It costs one Python call per round trip, on both sides alike: well under a
    microsecond, against the hundreds of microseconds a job costs.
    """
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


def _cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def _worker_main(spec: WorkerSpec, reports: Any, go: Any, stop: Any) -> None:
    """Body of one worker process: build everything, report ready, start on ``go``, stop on ``stop``."""
    with counting_round_trips() as round_trips:
        broker = _worker_broker(spec)
        worker = dramatiq.Worker(broker, queues={spec.queue}, worker_threads=spec.threads)
        reports.put(("ready", os.getpid(), 0, 0.0))
        go.wait()
        trips, cpu = round_trips(), _cpu_s()
        worker.start()
        stop.wait()
        cpu = _cpu_s() - cpu
        worker.stop(timeout=10_000)
        trips = round_trips() - trips
    broker.close()
    reports.put(("done", os.getpid(), trips, cpu))


def proc_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process (every thread), from ``/proc``; None without it."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
    return (int(fields[11]) + int(fields[12])) * _TICK_S  # utime, stime (fields 14, 15)


class WorkerGroup:
    """``processes`` worker processes of one spec, booted and idle until :meth:`go`."""

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
        self.self_reported_cpu_s = 0.0

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

    def cpu_s(self) -> float | None:
        """CPU seconds used so far by all the group's processes, or None where ``/proc`` is missing."""
        total = 0.0
        for proc in self.procs:
            used = proc_cpu_s(proc.pid or 0)
            if used is None:
                return None
            total += used
        return total

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.go_event.set()
        try:
            done = self._collect("done", timeout=30)
            self.round_trips = sum(trips for trips, _ in done)
            self.self_reported_cpu_s = sum(cpu for _, cpu in done)
        finally:
            for proc in self.procs:
                proc.join(5)
                if proc.is_alive():
                    proc.terminate()
                    proc.join(5)

    def _collect(self, kind: str, timeout: float) -> list[tuple[int, float]]:
        deadline = time.monotonic() + timeout
        values: list[tuple[int, float]] = []
        while len(values) < len(self.procs):
            try:
                got, _pid, trips, cpu = self.reports.get(timeout=0.2)
            except queue_module.Empty:
                dead = [p.exitcode for p in self.procs if p.exitcode not in (None, 0)]
                if dead or time.monotonic() > deadline:
                    raise BenchError(
                        f"worker processes did not report {kind!r} (exit codes {dead})"
                    ) from None
                continue
            if got == kind:
                values.append((trips, cpu))
        return values


class Profiler:
    """``py-spy record`` attached to every process of a group while the clock runs.

    Samples only the thread holding the GIL, so the stacks show where Python spends CPU, not
    where threads wait.  Writes one file of collapsed stacks per process (``<label>-<pid>.txt``): each line
    a stack and how many samples hit it, which ``flamegraph.pl``, speedscope or a grep
    read.  Sampling slows the workers, so figures of a profiled run are not comparable.
    """

    def __init__(self, out_dir: str, label: str, pids: list[int], rate: int = 200) -> None:
        binary = shutil.which("py-spy")
        if binary is None:
            raise BenchError("--profile needs py-spy on PATH (pip install py-spy)")
        os.makedirs(out_dir, exist_ok=True)
        self.procs = [
            subprocess.Popen(
                [
                    binary,
                    "record",
                    "--pid",
                    str(pid),
                    "--rate",
                    str(rate),
                    "--format",
                    "raw",
                    "--gil",
                    "--output",
                    os.path.join(out_dir, f"{label}-{pid}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid in pids
        ]
        time.sleep(1.0)  # py-spy attaches before the clock starts

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
