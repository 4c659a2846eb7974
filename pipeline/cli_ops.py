"""Operations commands: look at queues and jobs, and act on them."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

import click

from pipeline import wiring
from pipeline.cli_common import (
    confirm,
    json_option,
    open_queue,
    print_json,
    progress_bar,
    queue_argument,
    queue_names,
    stdout,
    table,
    when,
    yes_option,
)
from pipeline.errors import JobNotFoundError
from pipeline.events import QueueEvents
from pipeline.metrics import get_workers
from pipeline.queue import Queue
from pipeline.states import COUNT_KEYS, FINAL_STATES, STATES, FinalState, JobState

job_argument = click.argument("job_id", metavar="JOB_ID")


@click.command()
@json_option
def queues(as_json: bool) -> None:
    """List every known queue with its job counts."""
    rows: list[dict[str, Any]] = []
    for name in queue_names():
        queue = Queue(name)
        rows.append({"name": name, "paused": queue.is_paused(), "counts": queue.get_job_counts()})
    if as_json:
        print_json(rows)
        return
    _counts_table({r["name"]: r["counts"] for r in rows})
    if not rows:
        stdout().print(f"No queues yet in namespace {wiring.get_settings().namespace!r}.")


@click.command()
@click.argument("queue_names_", nargs=-1, required=True, metavar="QUEUE...")
@json_option
def stats(queue_names_: tuple[str, ...], as_json: bool) -> None:
    """Print job counts of the named queues."""
    counts = {name: open_queue(name).get_job_counts() for name in queue_names_}
    if as_json:
        print_json(counts)
        return
    _counts_table(counts)


def _counts_table(counts: dict[str, dict[str, int]]) -> None:
    # A paused queue's waiting jobs count as "paused" (Bull's vocabulary).
    columns = list(COUNT_KEYS)
    table(
        None, ["queue", *columns], [[name, *(c.get(col, 0) for col in columns)] for name, c in counts.items()]
    )


@click.group()
def jobs() -> None:
    """List and inspect jobs."""


@jobs.command("list")
@queue_argument
@click.option(
    "--state",
    type=click.Choice(STATES),
    default=JobState.WAITING.value,
    show_default=True,
    help="Which state's jobs to list.",
)
@click.option(
    "--start", type=click.IntRange(min=0), default=0, show_default=True, help="First index of the page."
)
@click.option(
    "--limit", type=click.IntRange(min=1, max=10_000), default=50, show_default=True, help="Jobs per page."
)
@click.option("--asc", is_flag=True, help="Oldest (or next to run) first instead of newest first.")
@json_option
def list_jobs(queue: str, state: str, start: int, limit: int, asc: bool, as_json: bool) -> None:
    """List jobs of one state of QUEUE, a page at a time."""
    found = open_queue(queue).get_jobs(state, start, start + limit - 1, asc)
    if as_json:
        print_json([job.as_dict() for job in found])
        return
    table(
        f"{queue}: {state}",
        ["id", "name", "attempts", "progress", "added", "finished", "failed reason"],
        [
            [
                j.id,
                j.name,
                j.attempts_made,
                j.progress,
                when(j.timestamp),
                when(j.finished_on),
                j.failed_reason,
            ]
            for j in found
        ],
    )


@jobs.command("show")
@queue_argument
@job_argument
@json_option
def show_job(queue: str, job_id: str, as_json: bool) -> None:
    """Show one job of QUEUE: state, data, options, result, logs and stack traces."""
    q = open_queue(queue)
    job = q.get_job(job_id)
    if job is None:
        raise JobNotFoundError(job_id, queue)
    logs = q.get_job_logs(job_id)
    if as_json:
        print_json({**job.as_dict(), "logs": logs})
        return
    out = stdout()
    out.print(f"[bold]{job.name}[/bold] {job.id} in {queue}: [bold]{job.state}[/bold]")
    fields = [
        ("attempts made", job.attempts_made),
        ("progress", job.progress),
        ("priority", job.priority or ""),
        ("added", when(job.timestamp)),
        ("started", when(job.processed_on)),
        ("finished", when(job.finished_on)),
        ("failed reason", job.failed_reason or ""),
    ]
    for label, value in fields:
        if value not in ("", None):
            out.print(f"  {label + ':':<15}{value}", highlight=False)
    out.print("data:", json.dumps(job.data, indent=2), highlight=False)
    out.print("options:", json.dumps(job.opts), highlight=False)
    if job.result is not None:
        out.print("result:", json.dumps(job.result, indent=2, default=str), highlight=False)
    if logs:
        out.print("logs:")
        for line in logs:
            out.print(f"  {line}", highlight=False, markup=False)
    for index, trace in enumerate(job.stacktrace, 1):
        out.print(f"stack trace {index} of {len(job.stacktrace)}:")
        out.print(trace, highlight=False, markup=False)


@click.command()
@queue_argument
@job_argument
def retry(queue: str, job_id: str) -> None:
    """Put failed job JOB_ID of QUEUE back to waiting."""
    open_queue(queue).retry_job(job_id)
    click.echo(f"Job {job_id} of {queue} is waiting again.")


@click.command("retry-all")
@queue_argument
@click.option(
    "--count", type=click.IntRange(min=1), default=None, help="Retry at most this many (oldest first)."
)
@yes_option
def retry_all(queue: str, count: int | None, yes: bool) -> None:
    """Put every failed job of QUEUE back to waiting."""
    q = open_queue(queue)
    total = q.get_failed_count() if count is None else min(count, q.get_failed_count())
    confirm(yes, f"Retry {total} failed job(s) of {queue}?")
    with progress_bar("retrying", total) as advance:
        done = q.retry_jobs(count=count, progress=advance)
    click.echo(f"Retried {done} job(s) of {queue}.")


@click.command()
@queue_argument
@job_argument
@yes_option
def remove(queue: str, job_id: str, yes: bool) -> None:
    """Delete job JOB_ID of QUEUE (any state but active)."""
    q = open_queue(queue)
    confirm(yes, f"Delete job {job_id} of {queue}?")
    q.remove_job(job_id)
    click.echo(f"Removed job {job_id} of {queue}.")


@click.command()
@queue_argument
@job_argument
def promote(queue: str, job_id: str) -> None:
    """Run delayed job JOB_ID of QUEUE now."""
    open_queue(queue).reschedule_job(job_id, 0)
    click.echo(f"Job {job_id} of {queue} is waiting now.")


@click.command("promote-all")
@queue_argument
@click.option(
    "--count", type=click.IntRange(min=1), default=None, help="Promote at most this many (soonest due first)."
)
def promote_all(queue: str, count: int | None) -> None:
    """Run every delayed job of QUEUE now."""
    q = open_queue(queue)
    total = q.get_delayed_count() if count is None else min(count, q.get_delayed_count())
    with progress_bar("promoting", total) as advance:
        done = q.promote_jobs(count, progress=advance)
    click.echo(f"Promoted {done} job(s) of {queue}.")


@click.command()
@queue_argument
@job_argument
@click.option("--reason", default="cancelled", show_default=True, help="Failed reason recorded on the job.")
def cancel(queue: str, job_id: str, reason: str) -> None:
    """Cancel job JOB_ID of QUEUE: a pending one fails now, a running one is asked to stop."""
    stopped = open_queue(queue).cancel_job(job_id, reason)
    click.echo(f"Job {job_id} of {queue} " + ("cancelled." if stopped else "asked to stop (it is running)."))


@click.command()
@queue_argument
def pause(queue: str) -> None:
    """Stop workers everywhere from starting jobs of QUEUE (running ones finish)."""
    open_queue(queue).pause()
    click.echo(f"Paused {queue}.")


@click.command()
@queue_argument
def resume(queue: str) -> None:
    """Let workers start jobs of QUEUE again."""
    open_queue(queue).resume()
    click.echo(f"Resumed {queue}.")


@click.command()
@queue_argument
@click.option(
    "--state",
    type=click.Choice(FINAL_STATES),
    default=FinalState.COMPLETED.value,
    show_default=True,
    help="Which finished jobs to delete.",
)
@click.option(
    "--grace-ms",
    "--grace",
    "grace_ms",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Keep jobs that finished less than this many ms ago (--grace is its old name).",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Delete at most this many.")
@yes_option
def clean(queue: str, state: str, grace_ms: int, limit: int | None, yes: bool) -> None:
    """Delete finished jobs of QUEUE."""
    q = open_queue(queue)
    count = q.get_job_counts(state)[state]
    total = count if limit is None else min(limit, count)
    confirm(yes, f"Delete up to {total} {state} job(s) of {queue} finished over {grace_ms} ms ago?")
    with progress_bar("cleaning", total) as advance:
        removed = q.clean(grace_ms, state, limit, progress=advance)
    click.echo(f"Deleted {len(removed)} {state} job(s) of {queue}.")


@click.command()
@queue_argument
@yes_option
def empty(queue: str, yes: bool) -> None:
    """Delete every waiting and delayed job of QUEUE."""
    q = open_queue(queue)
    counts = q.get_job_counts(JobState.WAITING, JobState.DELAYED)
    total = sum(counts.values())
    confirm(yes, f"Delete {total} waiting and delayed job(s) of {queue}?")
    with progress_bar("emptying", total) as advance:
        done = q.empty(progress=advance)
    click.echo(f"Deleted {done} waiting and delayed job(s) of {queue}.")


@click.command("remove-queue")
@queue_argument
@click.option("--force", is_flag=True, help="Also delete the jobs that are running now.")
@yes_option
def remove_queue(queue: str, force: bool, yes: bool) -> None:
    """Delete QUEUE entirely: all its jobs, logs, events, metrics, repeats and settings."""
    q = open_queue(queue)
    total = sum(q.get_job_counts().values())
    confirm(yes, f"Delete queue {queue} and all {total} of its jobs?")
    with progress_bar("deleting", total) as advance:
        done = q.obliterate(force=force, progress=advance)
    click.echo(f"Deleted queue {queue} ({done} job(s)).")


@click.group()
def repeats() -> None:
    """List and remove repeat (cron / every) definitions."""


@repeats.command("list")
@queue_argument
@json_option
def list_repeats(queue: str, as_json: bool) -> None:
    """List the repeat definitions of QUEUE, the next to fire first."""
    found = open_queue(queue).get_repeatable_jobs()
    if as_json:
        print_json([r.as_dict() for r in found])
        return
    table(
        f"{queue}: repeats",
        ["key", "name", "cron / every", "tz", "count", "next run"],
        [
            [r.key, r.name, r.cron or f"every {r.every} ms", r.tz or "UTC", r.count, when(r.next_run)]
            for r in found
        ],
    )


@repeats.command("remove")
@queue_argument
@click.argument("key", metavar="KEY")
def remove_repeat(queue: str, key: str) -> None:
    """Stop the repeat KEY of QUEUE (KEY as 'repeats list' shows it)."""
    if not open_queue(queue).remove_repeatable(key):
        raise click.ClickException(f"no repeat {key!r} in queue {queue!r}")
    click.echo(f"Removed repeat {key} of {queue}.")


@click.command()
@click.argument("queue", metavar="[QUEUE]", required=False)
@json_option
def workers(queue: str | None, as_json: bool) -> None:
    """List live worker processes (of QUEUE, or of every queue)."""
    names = [queue] if queue else queue_names()
    seen: dict[str, dict[str, Any]] = {}
    for name in names:
        for entry in get_workers(open_queue(name) if queue else Queue(name)):
            seen.setdefault(str(entry["id"]), entry)
    entries = sorted(seen.values(), key=lambda w: str(w["id"]))
    if as_json:
        print_json(entries)
        return
    table(
        None,
        ["id", "host", "pid", "threads", "queues", "started", "last heartbeat"],
        [
            [
                w["id"],
                w["host"],
                w["pid"],
                w.get("threads"),
                ", ".join(w["queues"]),
                when(w["started"]),
                when(w["last_heartbeat"]),
            ]
            for w in entries
        ],
    )


@click.command()
@queue_argument
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until interrupted.")
@click.option(
    "--last",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="How many past events to print first.",
)
@click.option(
    "--for-s",
    "--for",
    "duration_s",
    type=click.FloatRange(min=0),
    default=None,
    help="With --follow: stop after this many seconds (default: until Ctrl-C; --for is its old name).",
)
@json_option
def events(queue: str, follow: bool, last: int, duration_s: float | None, as_json: bool) -> None:
    """Print the lifecycle events of QUEUE (one per line); --follow to keep watching."""
    q = open_queue(queue)
    reader = QueueEvents(queue, last_id="$", client=q.client)  # pinned before the replay: no gap
    for event in reader.recent(last) if last else []:
        _print_event(event, as_json)
    if not follow:
        return
    deadline = None if duration_s is None else time.monotonic() + duration_s
    while deadline is None or time.monotonic() < deadline:
        wait = 0.5 if deadline is None else max(min(0.5, deadline - time.monotonic()), 0.001)
        for event in reader.read(timeout_s=wait, count=1000):
            _print_event(event, as_json)


def _print_event(event: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(asdict(event), default=str))
        return
    millis = int(event.id.split("-")[0])
    payload = " ".join(f"{k}={v}" for k, v in event.payload.items())
    click.echo(f"{when(millis)}  {event.name:<10} {event.job_id}  {payload}".rstrip())


COMMANDS = [
    queues,
    stats,
    jobs,
    retry,
    retry_all,
    remove,
    promote,
    promote_all,
    cancel,
    pause,
    resume,
    clean,
    empty,
    remove_queue,
    repeats,
    workers,
    events,
]
