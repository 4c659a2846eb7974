"""The ``pipeline`` command: ``demo`` (the main job), ``stats``, ``scheduler``."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence

from pipeline.embedded import ensure_redis
from pipeline.errors import PipelineError
from pipeline.settings import Settings


def _demo(args: argparse.Namespace) -> int:
    from pipeline import demo
    from pipeline.queue import Queue

    settings, server = ensure_redis(Settings.from_env())
    if server is not None:
        print(f"No Redis configured or running: started a private redis-server at {server.url}")
    else:
        from pipeline.connection import describe

        print(f"Using Redis at {describe(settings)}")
    settings = settings.replace(namespace=f"{settings.namespace}-demo-{uuid.uuid4().hex[:8]}")
    env = {**os.environ, **settings.redis_env(), "PIPELINE_NAMESPACE": settings.namespace}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dramatiq",
            "pipeline.demo",
            "--processes",
            "1",
            "--threads",
            str(args.threads),
            "--queues",
            demo.QUEUE,
        ],
        env=env,
        stdout=subprocess.DEVNULL if not args.verbose else None,
        stderr=subprocess.DEVNULL if not args.verbose else None,
    )
    q = Queue(demo.QUEUE, settings=settings)
    try:
        jobs = q.add_bulk(
            [
                {"name": "resize", "data": {"image": f"photo-{i}.jpg", "width": 150 * (i + 1)}}
                for i in range(3)
            ]
        )
        jobs.append(q.add("resize", {"image": "urgent.jpg", "width": 1200}, priority=1))
        jobs.append(q.add("flaky-send", {"to": "a@example.com"}))
        jobs.append(q.add("broken", {"reason": "template 'welcome' not found"}))
        jobs.append(q.add("resize", {"image": "later.jpg", "width": 500}, delay=1500))
        print(f"Added {len(jobs)} jobs to queue {q.name!r}; a worker process is taking them.\n")
        deadline = time.monotonic() + args.timeout
        while True:
            counts = q.get_job_counts()
            print("  " + "  ".join(f"{state}={n}" for state, n in counts.items()))
            if counts["waiting"] + counts["delayed"] + counts["active"] == 0:
                break
            if time.monotonic() > deadline:
                print("Timed out waiting for the demo jobs.")
                return 1
            time.sleep(0.5)
        print()
        for job in jobs:
            fresh = q.get_job(job.id)
            if fresh is None:
                continue
            outcome = fresh.result if fresh.state == "completed" else fresh.failed_reason
            print(
                f"  {fresh.name:<11} {fresh.state:<10} attempts={fresh.attempts_made} "
                f"progress={fresh.progress!s:<4} -> {outcome}"
            )
        return 0
    finally:
        worker.terminate()
        worker.wait(15)
        q.empty()
        q.clean(0, "completed")
        q.clean(0, "failed")
        if server is not None:
            server.stop()


def _stats(args: argparse.Namespace) -> int:
    from pipeline.queue import Queue

    print(json.dumps({name: Queue(name).get_job_counts() for name in args.queues}, indent=2))
    return 0


def _api(args: argparse.Namespace) -> int:
    import uvicorn

    from pipeline.api import create_app
    from pipeline.api.auth import Credentials, refuse_unprotected

    credentials = Credentials.from_settings(Settings.from_env())
    refuse_unprotected(args.host, credentials, allow_unauthenticated=args.allow_unauthenticated)
    if credentials.empty:
        print("No API credentials configured: anyone who reaches this address has the admin role.")
    print(f"Dashboard on http://{args.host}:{args.port}/  (API under /queues, docs at /docs)")
    uvicorn.run(create_app(credentials), host=args.host, port=args.port, log_level="info")
    return 0


def _hash_password(args: argparse.Namespace) -> int:
    import getpass

    from pipeline.api.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("error: the two passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\n")
    print(hash_password(password))
    return 0


def _scheduler(args: argparse.Namespace) -> int:
    from importlib import import_module

    run_scheduler = import_module("pipeline.scheduler").run_scheduler
    run_scheduler()
    return 0


def _devcluster(args: argparse.Namespace) -> int:
    from pipeline.devcluster import run

    return run(args.kind)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a worker and a producer that show jobs moving through states")
    demo.add_argument("--threads", type=int, default=2)
    demo.add_argument("--timeout", type=float, default=60)
    demo.add_argument("--verbose", action="store_true", help="show the worker's log")
    demo.set_defaults(func=_demo)
    stats = sub.add_parser("stats", help="print job counts of queues")
    stats.add_argument("queues", nargs="+")
    stats.set_defaults(func=_stats)
    api = sub.add_parser("api", help="serve the management API and dashboard")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8080)
    api.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="serve a non-loopback address with no credentials (a trusted network only)",
    )
    api.set_defaults(func=_api)
    hasher = sub.add_parser(
        "hash-password", help="print the argon2 hash of a console password (for PIPELINE_API_USERS)"
    )
    hasher.set_defaults(func=_hash_password)
    sched = sub.add_parser("scheduler", help="fire cron and interval repeats")
    sched.set_defaults(func=_scheduler)
    dev = sub.add_parser(
        "devcluster", help="start a local Redis Cluster or Sentinel set for development (until Ctrl-C)"
    )
    dev.add_argument("kind", choices=["cluster", "sentinel"])
    dev.set_defaults(func=_devcluster)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
