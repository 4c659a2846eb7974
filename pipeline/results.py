"""Dramatiq's result backend, answered from the job records.

A return value is not written separately: the consumer stores it in the same
script that completes the job (see ``middleware.job_results``).  With
``Results(backend=JobResultBackend())`` on the broker, ``message.get_result()``
reads the record, with Dramatiq's blocking and timeout semantics.
"""

from __future__ import annotations

import time
from typing import Any

import dramatiq
from dramatiq.results import ResultBackend, ResultFailure, ResultMissing, ResultTimeout

from pipeline.composition import get_broker
from pipeline.job import JobState
from pipeline.job_message import JobMessage
from pipeline.ports import JobBroker

#: Dramatiq's default wait for a blocking ``get_result`` (ms).
DEFAULT_TIMEOUT = 10_000


class JobResultBackend(ResultBackend):
    """Results live on job records; storing is the consumer's job."""

    def __init__(self) -> None:
        super().__init__(namespace="pipeline-results")

    def store_result(self, message: Any, result: Any, ttl: int) -> None:
        if isinstance(message, JobMessage):
            message.complete(result)

    def store_exception(self, message: Any, exception: Exception, ttl: int) -> None:
        """Failures are recorded by the fail transition itself."""

    def get_result(self, message: Any, *, block: bool = False, timeout: int | None = None) -> Any:
        """The job's result; ``timeout`` in ms as in Dramatiq (None: 10 s, 0: look once)."""
        broker = dramatiq.get_broker()
        if not isinstance(broker, JobBroker):
            broker = get_broker()
        queue = broker.queue(message.queue_name)
        if timeout is None:
            timeout = DEFAULT_TIMEOUT
        deadline = time.monotonic() + timeout / 1000
        while True:
            job = queue.get_job(message.message_id)
            if job is not None and job.state is JobState.COMPLETED:
                return job.result
            if job is not None and job.state is JobState.FAILED:
                raise ResultFailure(job.failed_reason or "failed", "JobFailed", job.failed_reason or "")
            if not block:
                raise ResultMissing(message)
            if time.monotonic() >= deadline:
                raise ResultTimeout(message)
            time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))
