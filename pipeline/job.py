"""The job record, as every process sees it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipeline.deprecated import renamed
from pipeline.encoding import decode_message
from pipeline.errors import (
    InvalidJobError,
    JobFailedError,
    JobNotFoundError,
    JobStateError,
    JobTimeoutError,
    UnreadableJobError,
)
from pipeline.listeners import dispatch
from pipeline.options import encode_json
from pipeline.states import JobState as JobState  # re-exported: `pipeline.job.JobState` is public
from pipeline.store import decode_json

if TYPE_CHECKING:
    from pipeline.queue import Queue


@dataclass
class Job:
    """One job and its record.

    Attributes:
        id: the job id; for a plain ``actor.send`` it is the Dramatiq message id.
        name: the job name (Bull's), which selects the handler on the queue.
        queue_name: the queue it belongs to.
        data: the JSON object given to ``add``; the handler's keyword arguments.
        opts: the options it was added with (normalised, Bull's names in snake_case).
        state: the state when this object was read (``get_state()`` asks again).
        attempts_made: attempts that have finished (failed, retried or completed).
        progress: the last value given to ``update_progress`` (number or JSON value).
        result: the handler's return value, once completed.
        failed_reason: the last failed attempt's error text.
        stacktrace: stack traces of the newest failed attempts (at most ``stacktrace_limit``).
        timestamp: when it was added (epoch ms).
        processed_on: when its current/last attempt started (epoch ms).
        finished_on: when it completed or failed (epoch ms).
        delay: the delay it was added with (ms).
        priority: its priority (1 highest; 0 none).
        unreadable: why the stored record cannot be decoded (its name, data and options
            are then empty), or ``None`` for every readable job.
        raw_message: the stored message as text (undecodable bytes replaced), set only
            when ``unreadable`` is.
    """

    id: str
    name: str
    queue_name: str
    data: dict[str, Any]
    opts: dict[str, Any]
    state: JobState
    attempts_made: int = 0
    progress: Any = 0
    result: Any = None
    failed_reason: str | None = None
    stacktrace: list[str] = field(default_factory=list)
    timestamp: int = 0
    processed_on: int | None = None
    finished_on: int | None = None
    delay: int = 0
    priority: int = 0
    unreadable: str | None = None
    raw_message: str | None = None
    _queue: Queue | None = field(default=None, repr=False, compare=False)
    _token: str | None = field(default=None, repr=False, compare=False)
    _cancelled: bool = field(default=False, repr=False, compare=False)

    @classmethod
    def from_record(cls, queue: Queue, record: dict[str, str], job_id: str) -> Job:
        """The job of a stored record; a record that cannot be decoded gives an unreadable job."""
        try:
            if record.get("unreadable"):
                raise UnreadableJobError(record["unreadable"])
            return cls._decode(queue, record, job_id)
        except (UnreadableJobError, KeyError, TypeError, ValueError, RecursionError) as exc:
            reason = exc.reason if isinstance(exc, UnreadableJobError) else f"{type(exc).__name__}: {exc}"
            raw = record.get("msg", "")
            try:
                state = JobState(record.get("state", ""))
            except ValueError:
                state = JobState.FAILED
            return cls(
                id=job_id,
                name="",
                queue_name=queue.name,
                data={},
                opts={},
                state=state,
                failed_reason=record.get("failed_reason"),
                finished_on=_lenient_int(record.get("finished_on")),
                unreadable=reason,
                raw_message=raw.encode(errors="surrogateescape").decode(errors="replace"),
                _queue=queue,
            )

    @classmethod
    def _decode(cls, queue: Queue, record: dict[str, str], job_id: str) -> Job:
        message = decode_message(record["msg"], queue.name, job_id)
        opts = dict(message["options"])
        if "time_limit" in opts:
            opts["timeout"] = opts.pop("time_limit")
        return cls(
            id=job_id,
            name=message["actor_name"],
            queue_name=message["queue_name"],
            data=message["kwargs"],
            opts=opts,
            state=JobState(record["state"]),
            attempts_made=int(record.get("attempts_made") or 0),
            progress=decode_json(record.get("progress")) or 0,
            result=decode_json(record.get("result")),
            failed_reason=record.get("failed_reason"),
            stacktrace=decode_json(record.get("stacktrace")) or [],
            timestamp=int(message.get("message_timestamp") or 0),
            processed_on=_int_or_none(record.get("processed_on")),
            finished_on=_int_or_none(record.get("finished_on")),
            delay=int(opts.get("delay") or 0),
            priority=int(record.get("priority") or 0),
            _queue=queue,
        )

    @property
    def queue(self) -> Queue:
        if self._queue is None:
            raise JobStateError(self.id, self.queue_name, self.state, "use a detached")
        return self._queue

    def as_dict(self) -> dict[str, Any]:
        """The record as plain JSON-ready values (for the API)."""
        return {
            "id": self.id,
            "name": self.name,
            "queue_name": self.queue_name,
            "data": self.data,
            "opts": self.opts,
            "state": str(self.state),
            "attempts_made": self.attempts_made,
            "progress": self.progress,
            "result": self.result,
            "failed_reason": self.failed_reason,
            "stacktrace": self.stacktrace,
            "timestamp": self.timestamp,
            "processed_on": self.processed_on,
            "finished_on": self.finished_on,
            "delay": self.delay,
            "priority": self.priority,
            "unreadable": self.unreadable,
            "raw_message": self.raw_message,
        }

    # -- reading ----------------------------------------------------------------------------

    def reload(self) -> Job:
        """Read the record again; raises :class:`JobNotFoundError` when it is gone."""
        fresh = self.queue.get_job(self.id)
        if fresh is None:
            raise JobNotFoundError(self.id, self.queue_name)
        fresh._token = self._token
        return fresh

    def get_state(self) -> JobState | None:
        """The job's state now, or ``None`` when the job no longer exists."""
        fresh = self.queue.get_job(self.id)
        return None if fresh is None else fresh.state

    def get_logs(self, start: int = 0, end: int = -1) -> list[str]:
        return self.queue.get_job_logs(self.id, start, end)

    def wait_until_finished(self, timeout_s: float | None = None, *, timeout: float | None = None) -> Any:
        """Block until the job completes (return its result) or fails (raise :class:`JobFailedError`).

        Past ``timeout_s`` seconds :class:`JobTimeoutError` is raised (``None``: wait for ever).
        ``timeout`` is its deprecated old name.
        """
        timeout_s = renamed(timeout_s, timeout, new="timeout_s", old="timeout", owner="wait_until_finished")
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        pause = 0.005
        while True:
            fresh = self.queue.get_job(self.id)
            if fresh is None:
                raise JobNotFoundError(self.id, self.queue_name)
            if fresh.state is JobState.COMPLETED:
                return fresh.result
            if fresh.state is JobState.FAILED:
                raise JobFailedError(self.id, self.queue_name, fresh.failed_reason or "")
            if deadline is not None and time.monotonic() >= deadline:
                raise JobTimeoutError(self.id, self.queue_name, int((timeout_s or 0) * 1000))
            time.sleep(pause)
            pause = min(pause * 2, 0.1)

    # -- changing ---------------------------------------------------------------------------

    def remove(self) -> None:
        """Delete the job and its logs; a waiting or delayed job then never runs.

        Raises :class:`JobStateError` when a worker holds it (active).
        """
        self.queue.remove_job(self.id)

    def retry(self) -> None:
        """Move a failed job back to waiting (Bull's ``job.retry()``)."""
        self.queue.retry_job(self.id)

    def log(self, line: str) -> int:
        """Append a line to the job's logs; returns the number of lines."""
        return self.queue.add_job_log(self.id, str(line))

    def update_progress(self, value: Any) -> None:
        """Store progress (a number or a JSON value) on the running job and emit ``progress``."""
        encoded = encode_json(value, "progress", self.queue_name)
        if self._token is None:
            raise JobStateError(self.id, self.queue_name, self.state, "update progress of a not running")
        if not self.queue.store.update_progress(self.id, self._token, encoded):
            raise JobStateError(self.id, self.queue_name, "no longer held by this worker", "update")
        self.progress = value
        dispatch(self.queue_name, "progress", self, value)

    def cancel(self, reason: str = "cancelled") -> bool:
        """Cancel from any process; see :meth:`Queue.cancel_job`.  True when it will never start."""
        return self.queue.cancel_job(self.id, reason)

    def is_cancelled(self) -> bool:
        """Whether a cancel was requested (the seed's "is this job still wanted?" check)."""
        if self._cancelled:
            return True
        raw = self.queue.client.hget(self.queue.store.keys.job(self.id), "cancelled")
        self._cancelled = raw is not None
        return self._cancelled

    def promote(self) -> None:
        """Run a delayed job now."""
        self.queue.reschedule_job(self.id, 0)

    def change_delay(self, delay_ms: int) -> None:
        """Run a delayed job ``delay_ms`` from now instead."""
        if delay_ms == 0:
            raise InvalidJobError(
                "change_delay needs a delay > 0 (use promote() to run now)", queue=self.queue_name
            )
        self.queue.reschedule_job(self.id, delay_ms)


def _int_or_none(raw: str | None) -> int | None:
    return None if raw in (None, "") else int(float(raw))


def _lenient_int(raw: str | None) -> int | None:
    """``raw`` as an int, or ``None`` when it is none (an unreadable record may hold anything)."""
    try:
        return _int_or_none(raw)
    except ValueError:
        return None
