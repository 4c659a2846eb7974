"""``current_job()``: the job a handler is running, from anywhere in its call stack."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pipeline.errors import PipelineError

if TYPE_CHECKING:
    from pipeline.job import Job

_local = threading.local()


def current_job() -> Job:
    """The running job; raises :class:`PipelineError` outside a job handler."""
    job: Job | None = getattr(_local, "job", None)
    if job is None:
        raise PipelineError("current_job() called outside a running job handler")
    return job


def set_current_job(job: Job | None) -> None:
    _local.job = job
