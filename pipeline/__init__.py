"""Bull-style tracked jobs, scheduling and events on Dramatiq's Redis broker."""

from __future__ import annotations

from pipeline.actor import actor
from pipeline.context import current_job
from pipeline.errors import PipelineError, UnrecoverableError
from pipeline.job import Job, JobState
from pipeline.queue import Queue
from pipeline.settings import Settings

__all__ = [
    "Job",
    "JobState",
    "PipelineError",
    "Queue",
    "Settings",
    "UnrecoverableError",
    "actor",
    "current_job",
]
