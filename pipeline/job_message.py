"""``JobMessage``: the Dramatiq message of a job a worker holds.

The consumer builds one for every job it takes; middleware and the worker thread
see it as Dramatiq's ``MessageProxy``, plus the job's id, name and lock token.
"""

from __future__ import annotations

import threading
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dramatiq.broker import MessageProxy
from dramatiq.message import Message

from pipeline.job import Job, JobState

if TYPE_CHECKING:
    from pipeline.queue import Queue
    from pipeline.store import Fetched


class Outcome(StrEnum):
    """What the consumer stored for an attempt."""

    COMPLETED = "completed"
    RETRIED = "retried"
    FAILED = "failed"
    CANCELLED = "cancelled"
    #: The job was no longer this worker's (its lock lapsed and was taken back): nothing stored.
    REJECTED = "rejected"


class JobMessage(MessageProxy):
    """A Dramatiq message proxy that knows its job: id, name, lock token and outcome.

    An attempt's outcome goes one way.  Middleware decide it, through these methods
    only: :meth:`complete` (the handler's return value: JobResults, a result
    backend), :meth:`retry_in` (Retries), :meth:`fail` (Retries, Cancellation,
    Dramatiq's own middleware) and :meth:`cancelled` (the cancellation watcher).
    The consumer alone acts on the decision: it writes the transition and
    :meth:`recorded` what was stored, which ``LocalEvents`` reads.

    Every decision but :meth:`cancelled` is made on the thread that then reports
    the job (its worker thread; Dramatiq's consumer thread for a job with no
    actor).  :meth:`cancelled` comes from the watcher thread; it writes a slot of
    its own, before it interrupts the handler, so no lock is needed.
    """

    def __init__(
        self, message: Message[Any], fetched: Fetched, job_name: str, *, reason: str | None = None
    ) -> None:
        """``reason``: why the job fails, should it fail (a job name with no handler)."""
        super().__init__(message)
        # The message's fields, read by every middleware hook: as attributes of the proxy they
        # skip MessageProxy.__getattr__ (a failed lookup, then a call) on each of some 25 reads
        # per job.  The message is frozen, so they cannot go stale (options is the same dict).
        self.queue_name = message.queue_name
        self.actor_name = message.actor_name
        self.args = message.args
        self.kwargs = message.kwargs
        self.options = message.options
        self.message_id = message.message_id
        self.message_timestamp = message.message_timestamp
        self.job_id = fetched.job_id
        self.token = fetched.token
        self.attempts_made = fetched.attempts_made
        self.job_name = job_name
        # The decision, written only by the methods below.
        self._result: Any = None
        self._retry_delay: int | None = None
        self._reason = reason
        self._exhausted = False
        self._cancel_reason: str | None = None
        #: What the consumer stored.
        self.outcome: Outcome | None = None
        #: The failure reason the consumer stored with "failed".
        self.recorded_reason: str | None = None
        # The consumer's own bookkeeping of the job it holds.
        #: Set once a worker thread has started a job handed over directly (see JobConsumer).
        self.started: threading.Event | None = None
        #: Set once recording the outcome met a connection error and is being tried again.
        self.retrying = False
        #: The holding this job is registered in (its consumer thread's), released on the report.
        self.held_in: dict[tuple[str, str], None] | None = None

    # -- deciding the outcome (middleware) ---------------------------------------------------

    def complete(self, result: Any) -> None:
        """The handler returned ``result``, stored on the record when the job completes."""
        self._result = result

    def retry_in(self, delay_ms: int) -> None:
        """Try the job again after ``delay_ms`` (the failed attempt's error is recorded)."""
        self._retry_delay = delay_ms

    def fail(self, reason: str | None = None, *, exhausted: bool = False) -> None:
        """Fail the job now (Dramatiq's ``fail``), with ``reason`` instead of its error's text;
        ``exhausted``: it used its last attempt."""
        super().fail()
        if reason is not None:
            self._reason = reason
        if exhausted:
            self._exhausted = True

    def cancelled(self, reason: str) -> None:
        """A cancel is being enforced: the job fails with ``reason`` (from the watcher thread)."""
        self._cancel_reason = reason

    @property
    def result(self) -> Any:
        """The handler's return value, once :meth:`complete` was called."""
        return self._result

    @property
    def retry_delay(self) -> int | None:
        """The delay :meth:`retry_in` asked for, or None: no retry."""
        return self._retry_delay

    @property
    def failure_reason(self) -> str | None:
        """The reason the job fails with, when one was given rather than its error's text."""
        return self._cancel_reason or self._reason

    @property
    def retries_exhausted(self) -> bool:
        return self._exhausted

    # -- what was stored (the consumer) ------------------------------------------------------

    def recorded(self, outcome: Outcome, reason: str | None = None) -> None:
        """The consumer stored ``outcome`` (with ``reason`` for a failure)."""
        self.outcome = outcome
        self.recorded_reason = reason

    def to_job(self, queue: Queue) -> Job:
        """The running job, as handlers and listeners see it."""
        opts = dict(self.options)
        if "time_limit" in opts:
            opts["timeout"] = opts.pop("time_limit")
        return Job(
            id=self.job_id,
            name=self.job_name,
            queue_name=self.queue_name,
            data=self.kwargs,
            opts=opts,
            state=JobState.ACTIVE,
            attempts_made=self.attempts_made,
            timestamp=self.message_timestamp,
            _queue=queue,
            _token=self.token,
        )
