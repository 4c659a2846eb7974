"""``JobMessage``: the Dramatiq message of a job a worker holds.

The consumer builds one for every job it takes; middleware and the worker thread
see it as Dramatiq's ``MessageProxy``, plus the job's id, name and lock token.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from dramatiq.broker import MessageProxy
from dramatiq.message import Message

from pipeline.job import Job, JobState

if TYPE_CHECKING:
    from pipeline.queue import Queue
    from pipeline.store import Fetched


class JobMessage(MessageProxy):
    """A Dramatiq message proxy that knows its job: id, name, lock token and outcome.

    Middleware fill in the outcome: ``retry_delay`` (Retries), ``job_result`` (Results).
    """

    def __init__(self, message: Message[Any], fetched: Fetched, job_name: str) -> None:
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
        self.retry_delay: int | None = None
        self.job_result: Any = None
        self.failure_reason: str | None = None
        self.retries_exhausted = False
        #: What the consumer recorded: "completed", "retried", "failed" or "rejected".
        self.outcome: str | None = None
        #: Set once a worker thread has started a job handed over directly (see JobConsumer).
        self.started: threading.Event | None = None
        #: Set once recording the outcome met a connection error and is being tried again.
        self.retrying = False
        #: The holding this job is registered in (its consumer thread's), released on the report.
        self.held_in: dict[tuple[str, str], None] | None = None

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
