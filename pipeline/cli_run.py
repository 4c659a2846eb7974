"""Commands that run things: ``up`` (the whole system), ``demo``, ``api``, ``scheduler``."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import click

from pipeline import wiring
from pipeline.connection import describe
from pipeline.connection import ping as ping_redis
from pipeline.embedded import ensure_redis
from pipeline.queue import Queue
from pipeline.scheduler import run_scheduler
from pipeline.settings import Settings
from pipeline.states import JobState


@click.command()
@click.option("--demo", is_flag=True, help="Also add demo jobs in every state (once per data directory).")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address the API and dashboard listen on."
)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="Port of the API."
)
@click.option(
    "--processes", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes."
)
@click.option(
    "--threads", type=click.IntRange(min=1), default=4, show_default=True, help="Threads per worker process."
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the private Redis (in redis/) and the first login's hash are kept "
    "[default: $PIPELINE_DATA_DIR, i.e. var].",
)
@click.option(
    "--verbose",
    is_flag=True,
    help="Show the worker's, scheduler's and API's output here instead of in log files.",
)
def up(
    demo: bool, host: str, port: int, processes: int, threads: int, data_dir: Path | None, verbose: bool
) -> None:
    """Run the whole system: Redis (private and persistent unless REDIS_URL is set), a worker,
    the scheduler and the dashboard. Ctrl-C stops everything."""
    from pipeline.up import Options, run  # deferred: CLI startup speed

    options = Options(
        host=host,
        port=port,
        processes=processes,
        threads=threads,
        demo=demo,
        verbose=verbose,
        data_dir=data_dir,
        announce=lambda line: click.echo(line, err=False),
    )
    code = run(options)
    if code:
        click.get_current_context().exit(code)


@click.command()
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True, help="Worker threads.")
@click.option(
    "--timeout-s",
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=1),
    default=60,
    show_default=True,
    help="Seconds to wait for the jobs (--timeout is its old name).",
)
@click.option("--verbose", is_flag=True, help="Show the worker's log.")
def demo(threads: int, timeout_s: float, verbose: bool) -> None:
    """Run a worker and a producer that show jobs moving through their states, then clean up."""
    from pipeline import demo as demo_actors  # deferred: importing it declares the demo actors

    settings, server = ensure_redis(Settings.from_env())
    if server is not None:
        click.echo(f"No Redis configured: started a private redis-server at {server.url}")
    else:
        click.echo(f"Using Redis at {describe(settings)}")
    settings = settings.replace(namespace=f"{settings.namespace}-demo-{uuid.uuid4().hex[:8]}")
    env = {**os.environ, **settings.redis_env(), "PIPELINE_NAMESPACE": settings.namespace}
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "dramatiq", "pipeline.demo"),
            *("--processes", "1", "--threads", str(threads), "--queues", demo_actors.QUEUE),
        ],
        env=env,
        stdout=None if verbose else subprocess.DEVNULL,
        stderr=None if verbose else subprocess.DEVNULL,
    )
    q = Queue(demo_actors.QUEUE, settings=settings)
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
        click.echo(f"Added {len(jobs)} jobs to queue {q.name!r}; a worker process is taking them.\n")
        deadline = time.monotonic() + timeout_s
        while True:
            counts = q.get_job_counts()
            click.echo("  " + "  ".join(f"{state}={n}" for state, n in counts.items()))
            if counts[JobState.WAITING] + counts[JobState.DELAYED] + counts[JobState.ACTIVE] == 0:
                break
            if time.monotonic() > deadline:
                raise click.ClickException("timed out waiting for the demo jobs")
            time.sleep(0.5)
        click.echo()
        for job in jobs:
            fresh = q.get_job(job.id)
            if fresh is None:
                continue
            outcome = fresh.result if fresh.state is JobState.COMPLETED else fresh.failed_reason
            click.echo(
                f"  {fresh.name:<11} {fresh.state:<10} attempts={fresh.attempts_made} "
                f"progress={fresh.progress!s:<4} -> {outcome}"
            )
    finally:
        worker.terminate()
        worker.wait(15)
        q.obliterate(force=True)
        if server is not None:
            server.stop()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="Port to listen on."
)
@click.option(
    "--allow-unauthenticated",
    is_flag=True,
    help="Serve a non-loopback address with no credentials configured (a trusted network only).",
)
def api(host: str, port: int, allow_unauthenticated: bool) -> None:
    """Serve the management API and the dashboard."""
    # Deferred: the web stack is loaded only by the command that serves it (CLI startup speed).
    import uvicorn

    from pipeline.api import create_app
    from pipeline.api.auth import Credentials, refuse_unprotected

    credentials = Credentials.from_settings(Settings.from_env())
    refuse_unprotected(host, credentials, allow_unauthenticated=allow_unauthenticated)
    ping_redis(wiring.get_client())
    if credentials.empty:
        click.echo("No API credentials configured: anyone who reaches this address has the admin role.")
    click.echo(f"Dashboard on http://{host}:{port}/  (API under /queues, docs at /docs)")
    uvicorn.run(create_app(credentials), host=host, port=port, log_level="info")


@click.command("hash-password")
def hash_password() -> None:
    """Print the argon2 hash of a console password (for PIPELINE_API_USERS); reads stdin when piped."""
    from pipeline.api.auth import hash_password as argon2_hash  # deferred: CLI startup speed

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise click.ClickException("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    click.echo(argon2_hash(password))


@click.command()
def scheduler() -> None:
    """Fire cron and interval repeats (run one or more; each fire is claimed once)."""
    run_scheduler()


@click.command()
def ping() -> None:
    """Check that the configured Redis answers (exit 0), for health checks and scripts."""
    ping_redis(wiring.get_client())
    click.echo("Redis answers.")


COMMANDS = [up, demo, api, hash_password, scheduler, ping]
