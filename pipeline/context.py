"""``current_job()``: the job a handler is running, from anywhere in its call stack."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from pipeline.errors import PipelineError

if TYPE_CHECKING:
    from pipeline.job import Job

_local = threading.local()


def current_job() -> Job:
    """The running job; raises :class:`PipelineError` outside a job handler."""
    job: Job | None = getattr(_local, "job", None)
    if job is None:
        make: Callable[[], Job] | None = getattr(_local, "make", None)
        if make is None:
            raise PipelineError("current_job() called outside a running job handler")
        job = _local.job = make()
    return job


def set_current_job(job: Job | Callable[[], Job] | None) -> None:
    """Bind the running job, or a function that builds it on first use (most handlers never ask)."""
    if job is None or not callable(job):
        _local.job, _local.make = job, None
    else:
        _local.job, _local.make = None, job
