"""Global lifecycle events: ``QueueEvents`` reads a queue's event stream from any process.

Events are appended by the same Lua script that changes a job's state, so
they never disagree with the store.  A reader remembers the id of the last
event it saw; a new reader given that id resumes where the old one stopped and
misses nothing still in the stream (capped at ``PIPELINE_EVENTS_MAX_LEN``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import redis

from pipeline import wiring
from pipeline.connection import translate_errors
from pipeline.deprecated import renamed
from pipeline.keys import QueueKeys
from pipeline.queue import Queue
from pipeline.settings import Settings

#: Payload fields holding JSON values.
_JSON_FIELDS = {"result", "data"}


@dataclass(frozen=True)
class Event:
    """One lifecycle event: ``name`` (waiting, active, progress, completed, failed, ...),
    the job it is about (empty for queue-wide events), its payload and its stream id."""

    name: str
    job_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    id: str = ""


class QueueEvents:
    """Reads the events of one queue, from ``last_id`` on (``"$"``: only new ones, ``"0"``: all kept)."""

    def __init__(
        self,
        queue_name: str,
        *,
        last_id: str = "$",
        client: redis.Redis | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or wiring.get_settings()
        if client is None:
            client = Queue(queue_name, settings=self.settings).client
        self.client = client
        self.queue_name = queue_name
        self.key = QueueKeys.for_queue(self.settings.namespace, queue_name).events
        self.last_id = last_id
        if last_id == "$":
            # Pin "now" to a concrete id so a reader never skips events between two reads.
            newest = cast(list[tuple[bytes, Any]], self.client.xrevrange(self.key, count=1))
            self.last_id = newest[0][0].decode() if newest else "0"

    @translate_errors
    def read(
        self, timeout_s: float | None = None, count: int = 100, *, timeout: float | None = None
    ) -> list[Event]:
        """Events after ``last_id``, waiting up to ``timeout_s`` seconds (default 1) for the first
        one.  ``timeout`` is its deprecated old name."""
        timeout_s = renamed(timeout_s, timeout, new="timeout_s", old="timeout", owner="QueueEvents.read")
        block_ms = max(int((1.0 if timeout_s is None else timeout_s) * 1000), 1)
        reply = cast(
            list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]],
            self.client.xread({self.key: self.last_id}, count=count, block=block_ms),
        )
        events: list[Event] = []
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                events.append(_event(entry_id.decode(), fields))
        if events:
            self.last_id = events[-1].id
        return events

    @translate_errors
    def recent(self, count: int) -> list[Event]:
        """The newest ``count`` events still kept, oldest first (whatever ``last_id`` is)."""
        entries = cast(list[tuple[bytes, dict[bytes, bytes]]], self.client.xrevrange(self.key, count=count))
        return [_event(entry_id.decode(), fields) for entry_id, fields in reversed(entries)]

    def __iter__(self) -> Iterator[Event]:
        while True:
            yield from self.read()

    def wait_for(
        self, predicate: Any, timeout_s: float | None = None, *, timeout: float | None = None
    ) -> list[Event]:
        """Read until an event satisfies ``predicate`` (returns everything read), or until
        ``timeout_s`` seconds have passed.  ``timeout`` is its deprecated old name."""
        timeout_s = renamed(timeout_s, timeout, new="timeout_s", old="timeout", owner="QueueEvents.wait_for")
        if timeout_s is None:
            raise TypeError("QueueEvents.wait_for() needs timeout_s (seconds)")
        deadline = time.monotonic() + timeout_s
        seen: list[Event] = []
        while time.monotonic() < deadline:
            batch = self.read(timeout_s=min(0.5, max(deadline - time.monotonic(), 0.001)))
            seen += batch
            if any(predicate(e) for e in batch):
                return seen
        return seen


def _event(entry_id: str, fields: dict[bytes, bytes]) -> Event:
    decoded = {k.decode(): v.decode() for k, v in fields.items()}
    name = decoded.pop("event")
    job_id = decoded.pop("job_id", "")
    payload: dict[str, Any] = {}
    for key, value in decoded.items():
        payload[key] = json.loads(value) if key in _JSON_FIELDS else value
    return Event(name=name, job_id=job_id, payload=payload, id=entry_id)
