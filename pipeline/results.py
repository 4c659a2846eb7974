"""Dramatiq's result backend, answered from the job records.

A return value is not written separately: the consumer stores it in the same
script that completes the job.  ``message.get_result()`` reads the record.
"""

from __future__ import annotations

import time
from typing import Any

from dramatiq.results import ResultBackend, ResultFailure, ResultMissing, ResultTimeout

from pipeline.job import JobState


class JobResultBackend(ResultBackend):
    """Results live on job records; storing is the consumer's job."""

    def __init__(self) -> None:
        super().__init__(namespace="pipeline-results")

    def store_result(self, message: Any, result: Any, ttl: int) -> None:
        message.job_result = result

    def store_exception(self, message: Any, exception: Exception, ttl: int) -> None:
        """Failures are recorded by the fail transition itself."""

    def get_result(self, message: Any, *, block: bool = False, timeout: int | None = None) -> Any:
        from pipeline.broker import get_broker

        queue = get_broker().queue(message.queue_name)
        deadline = time.monotonic() + (timeout or 10_000) / 1000
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
            time.sleep(0.02)
