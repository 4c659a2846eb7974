"""Benchmark, cluster mode: throughput with queues on 3 masters against 1.

Starts two local Redis Clusters from the installed ``redis-server``
(``pipeline.devcluster``, no replicas): one with a single master holding every
slot, one with 3 masters.  Both run the same code through the same cluster
client, on queues whose names put an equal share on each of the 3 masters, so
the only difference is how many Redis processes share the work.  Each round:

- add: producer processes ``add()`` jobs one at a time, round-robin over the queues;
- processing: worker processes serving every queue drain what was added
  (a no-op handler), from start to the last job finished;
- how the Redis work spread: the busiest master's share of the CPU all masters
  used over the round (100% on one master, about 33% when 3 share it evenly).

Figures are medians over the rounds, with the ratio of 3 masters to 1.  Redis
runs single-threaded per process, so a second and third master pay off once one
Redis is the bottleneck; on a machine with fewer cores than processes the
clients compete with the servers for CPU and the ratio stays near 1 (say so
when you quote it).

    python bench/cluster.py [--jobs N] [--queues Q] [--producers P] [--workers W] [--rounds R]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue as queue_module
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import dramatiq
from redis.crc import key_slot

from pipeline import actor
from pipeline.broker import PipelineBroker
from pipeline.composition import default_middleware
from pipeline.devcluster import LocalCluster
from pipeline.keys import QueueKeys
from pipeline.queue import Queue
from pipeline.settings import Settings

JOB_NAME = "noop"


@dataclass(frozen=True)
class Plan:
    settings: Settings
    queues: tuple[str, ...]
    jobs: int
    producers: int
    workers: int
    threads: int


def _producer_main(plan: Plan, index: int, reports: Any, go: Any) -> None:
    queues = [Queue(name, settings=plan.settings) for name in plan.queues]
    for q in queues:  # connect and register before the clock starts
        q.get_job_counts("waiting")
    share = plan.jobs // plan.producers
    reports.put(("ready", 0.0))
    go.wait()
    started = time.perf_counter()
    for i in range(share):
        queues[(i + index) % len(queues)].add(JOB_NAME, {"i": i})
    reports.put(("done", time.perf_counter() - started))


def _noop(**data: Any) -> None:
    return None


def _worker_main(plan: Plan, reports: Any, go: Any, stop: Any) -> None:
    broker = PipelineBroker(settings=plan.settings, middleware=default_middleware())
    for name in plan.queues:
        actor(queue_name=name, job_name=JOB_NAME, actor_name=f"noop-{name}", broker=broker)(_noop)
    worker = dramatiq.Worker(broker, worker_threads=plan.threads)
    reports.put(("ready", 0.0))
    go.wait()
    worker.start()
    stop.wait()
    worker.stop(timeout=10_000)
    broker.close()
    reports.put(("done", 0.0))


def _collect(reports: Any, kind: str, n: int, timeout: float = 120) -> list[float]:
    deadline = time.monotonic() + timeout
    values: list[float] = []
    while len(values) < n:
        try:
            got, value = reports.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue_module.Empty:
            raise SystemExit(f"bench: processes did not report {kind!r} in time") from None
        if got == kind:
            values.append(value)
    return values


def redis_cpu(cluster: LocalCluster) -> list[float]:
    """CPU seconds (user + system) each master has used so far."""
    out = []
    for server in cluster.masters():
        info = server.client.info("cpu")
        out.append(float(info["used_cpu_user"]) + float(info["used_cpu_sys"]))
    return out


def measure_round(plan: Plan, cluster: LocalCluster) -> tuple[float, float, float]:
    """(add jobs/s, processing jobs/s, the busiest master's share of Redis CPU) of one round."""
    cpu_before = redis_cpu(cluster)
    ctx = multiprocessing.get_context("spawn")
    reports, go = ctx.Queue(), ctx.Event()
    producers = [
        ctx.Process(target=_producer_main, args=(plan, i, reports, go), daemon=True)
        for i in range(plan.producers)
    ]
    for p in producers:
        p.start()
    _collect(reports, "ready", len(producers))
    go.set()
    add_s = max(_collect(reports, "done", len(producers)))
    for p in producers:
        p.join(10)
    added = plan.jobs // plan.producers * plan.producers

    queues = [Queue(name, settings=plan.settings) for name in plan.queues]
    reports, go, stop = ctx.Queue(), ctx.Event(), ctx.Event()
    workers = [
        ctx.Process(target=_worker_main, args=(plan, reports, go, stop), daemon=True)
        for _ in range(plan.workers)
    ]
    for w in workers:
        w.start()
    _collect(reports, "ready", len(workers))
    started = time.perf_counter()
    go.set()
    while sum(sum(q.get_job_counts("waiting", "active").values()) for q in queues):
        time.sleep(0.01)
    process_s = time.perf_counter() - started
    stop.set()
    _collect(reports, "done", len(workers))
    for w in workers:
        w.join(10)
    used = [after - before for before, after in zip(cpu_before, redis_cpu(cluster), strict=True)]
    for q in queues:
        q.clean(0, "completed")
    return added / add_s, added / process_s, max(used) / sum(used)


def spread_queues(cluster: LocalCluster, namespace: str, count: int) -> tuple[str, ...]:
    """``count`` queue names, an equal share on each master of ``cluster``."""
    owners: dict[int, int] = {}
    for server in cluster.masters():
        for start, end, owner, *_ in server.client.execute_command("CLUSTER SLOTS"):
            owners.update(dict.fromkeys(range(int(start), int(end) + 1), int(owner[1])))
    masters = len({*owners.values()})
    per_master = count // masters
    names: dict[int, list[str]] = {}
    while sum(len(v) for v in names.values()) < per_master * masters:
        name = f"bench-{uuid.uuid4().hex[:8]}"
        port = owners[key_slot(QueueKeys.for_queue(namespace, name).wait.encode())]
        if len(names.setdefault(port, [])) < per_master:
            names[port].append(name)
    return tuple(name for group in names.values() for name in group)


def run(args: argparse.Namespace) -> dict[int, tuple[list[float], list[float], list[float]]]:
    namespace = f"bench-{uuid.uuid4().hex[:6]}"
    three = LocalCluster(masters=3, replicas=0)
    one = LocalCluster(masters=1, replicas=0)
    try:
        queues = spread_queues(three, namespace, args.queues)
        results: dict[int, tuple[list[float], list[float], list[float]]] = {1: ([], [], []), 3: ([], [], [])}
        for round_no in range(args.rounds):
            order = [(1, one), (3, three)] if round_no % 2 == 0 else [(3, three), (1, one)]
            for masters, cluster in order:
                plan = Plan(
                    settings=cluster.settings(Settings.from_env()).replace(namespace=namespace),
                    queues=queues,
                    jobs=args.jobs,
                    producers=args.producers,
                    workers=args.workers,
                    threads=args.threads,
                )
                add_rate, process_rate, busiest = measure_round(plan, cluster)
                results[masters][0].append(add_rate)
                results[masters][1].append(process_rate)
                results[masters][2].append(busiest)
                print(
                    f"  round {round_no + 1}, {masters} master(s): add {add_rate:,.0f} jobs/s, "
                    f"processing {process_rate:,.0f} jobs/s, busiest master {busiest:.0%} of Redis CPU",
                    flush=True,
                )
        return results
    finally:
        one.stop()
        three.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=6000, help="jobs per round (default %(default)s)")
    parser.add_argument("--queues", type=int, default=6, help="queues, a third on each master (default 6)")
    parser.add_argument("--producers", type=int, default=2, help="producer processes (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, medians reported (default 3)")
    args = parser.parse_args(argv)
    print(
        f"Cluster bench: {args.jobs:,} jobs per round over {args.queues} queues, {args.producers} producer "
        f"and {args.workers} x {args.threads} worker processes, {os.cpu_count()} CPUs, {args.rounds} rounds"
    )
    results = run(args)
    print("\n| figure | 1 master | 3 masters | ratio |\n| --- | --- | --- | --- |")
    for label, index in (("add(), jobs/s", 0), ("processing, no-op handler, jobs/s", 1)):
        one, three = statistics.median(results[1][index]), statistics.median(results[3][index])
        print(f"| {label} | {one:,.0f} | {three:,.0f} | {three / one:.2f}x |")
    one, three = statistics.median(results[1][2]), statistics.median(results[3][2])
    print(f"| busiest master's share of Redis CPU | {one:.0%} | {three:.0%} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
