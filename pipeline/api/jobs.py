"""Job routes: list by state, read, logs, add, retry, cancel, remove."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from pipeline.api.deps import QueueDep
from pipeline.errors import JobNotFoundError
from pipeline.queue import Queue

router = APIRouter(prefix="/queues/{queue}/jobs", tags=["jobs"])

State = Literal["waiting", "delayed", "active", "completed", "failed"]


class NewJob(BaseModel):
    """A job to add: Bull's name, data and options (snake_case)."""

    name: str
    data: dict[str, Any] = Field(default_factory=dict)
    opts: dict[str, Any] = Field(default_factory=dict)


class CancelRequest(BaseModel):
    reason: str = "cancelled"


@router.get("")
def list_jobs(
    queue: QueueDep,
    state: State = "waiting",
    start: int = Query(0, ge=0),
    end: int = Query(49, ge=-1),
    asc: bool = False,
) -> list[dict[str, Any]]:
    """Jobs of one state, newest first unless ``asc``; ``start``/``end`` page the listing."""
    return [job.as_dict() for job in queue.get_jobs(state, start, end, asc)]


@router.post("", status_code=201)
def add_job(queue: str, job: NewJob) -> dict[str, Any]:
    """Add a job; like ``Queue.add``, this may be a queue's first job."""
    added = Queue(queue).add(job.name, job.data, **job.opts)
    return added.as_dict() if added is not None else {"message": "repeat finished: nothing scheduled"}


@router.get("/{job_id}")
def get_job(queue: QueueDep, job_id: str) -> dict[str, Any]:
    job = queue.get_job(job_id)
    if job is None:
        raise JobNotFoundError(job_id, queue.name)
    return {**job.as_dict(), "logs": queue.get_job_logs(job_id)}


@router.post("/{job_id}/retry")
def retry_job(queue: QueueDep, job_id: str) -> dict[str, str]:
    queue.retry_job(job_id)
    return {"message": "Job retry initiated"}


@router.post("/{job_id}/cancel")
def cancel_job(queue: QueueDep, job_id: str, body: CancelRequest | None = None) -> dict[str, Any]:
    stopped_now = queue.cancel_job(job_id, (body or CancelRequest()).reason)
    return {"message": "Job cancelled" if stopped_now else "Cancel requested", "stopped": stopped_now}


@router.delete("/{job_id}")
def remove_job(queue: QueueDep, job_id: str) -> dict[str, str]:
    queue.remove_job(job_id)
    return {"message": "Job removed"}
