"""What every ``pipeline`` command shares: opening queues, printing tables or JSON, asking
before destructive work, progress bars."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pipeline import wiring
from pipeline.errors import UnknownQueueError
from pipeline.keys import queues_set
from pipeline.queue import Queue

#: The ``--json`` flag of every read command.
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON instead of a table (for scripts)."
)
#: The ``--yes`` flag of every destructive command.
yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
queue_argument = click.argument("queue", metavar="QUEUE")


def stdout() -> Console:
    # Built per call: tests and pipes swap sys.stdout, and a console binds it when printing.
    return Console(soft_wrap=True)


def stderr() -> Console:
    return Console(stderr=True, soft_wrap=True)


def queue_names() -> list[str]:
    """Every known queue of the configured namespace, sorted."""
    client = wiring.get_client()
    members = client.smembers(queues_set(wiring.get_settings().namespace))
    return sorted(m.decode() for m in members)  # type: ignore[union-attr]


def open_queue(name: str) -> Queue:
    """The queue ``name``; :class:`UnknownQueueError` (exit 1, one line) when it was never used."""
    queue = Queue(name)
    if not queue.exists():
        raise UnknownQueueError(name)
    return queue


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    out = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        # The first column is an id or a name to copy: never broken over lines.
        out.add_column(column, no_wrap=index == 0, overflow="fold")
    for row in rows:
        out.add_row(*("" if cell is None else str(cell) for cell in row))
    stdout().print(out)


def when(ms: int | None) -> str:
    """An epoch-ms time in the local zone, to the second (blank when unset)."""
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def confirm(yes: bool, question: str) -> None:
    """Ask before destructive work unless ``--yes``; no answer (a closed stdin) is no."""
    if not yes:
        click.confirm(question, abort=True, err=True)


@contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for a long operation; yields ``advance(n)``.

    On a terminal it redraws in place; elsewhere (logs, CI) it prints a line at
    every tenth of the way, so the output still shows the work moving.
    """
    console = stderr()
    if console.is_terminal:
        columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(label, total=total)
            yield lambda n: bar.advance(task, n)
        return
    done = 0
    next_report = 0.1

    def advance(n: int) -> None:
        nonlocal done, next_report
        done += n
        if total and done / total >= next_report:
            console.print(f"{label}: {done}/{total} ({done * 100 // total}%)", highlight=False)
            while next_report <= done / total:
                next_report += 0.1

    yield advance
    if done and (not total or done < total):
        console.print(f"{label}: {done} done", highlight=False)
