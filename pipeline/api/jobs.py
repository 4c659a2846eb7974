"""Job routes: pages of one state with totals, a bounded search, one job with its logs,
and the actions on a job (retry, cancel, promote, remove) and adding one."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from pipeline import wiring
from pipeline.api.deps import QueueDep, UnknownQueueError, queue_exists
from pipeline.api.problems import InvalidRequestError
from pipeline.api.security import Admin, Operator
from pipeline.errors import JobNotFoundError
from pipeline.queue import Queue
from pipeline.states import PAUSED, JobState

router = APIRouter(prefix="/queues/{queue}/jobs", tags=["jobs"])

#: Most jobs one search request reads, so a search costs a bounded amount of Redis time.
SEARCH_WINDOW_MAX = 5_000
LOG_PAGE_MAX = 1_000


class NewJob(BaseModel):
    """A job to add: Bull's name, data and options (snake_case)."""

    name: str = Field(min_length=1, max_length=500)
    data: dict[str, Any] = Field(default_factory=dict)
    opts: dict[str, Any] = Field(default_factory=dict)


class CancelRequest(BaseModel):
    reason: str = Field(default="cancelled", max_length=2000)


def page_size_max() -> int:
    return wiring.get_settings().api_page_size_max


def _check_page_size(page_size: int) -> None:
    cap = page_size_max()
    if page_size > cap:
        raise InvalidRequestError(
            f"page_size {page_size} is larger than the maximum of {cap} (PIPELINE_API_PAGE_SIZE_MAX)",
            field="page_size",
        )


def state_total(queue: Queue, state: str) -> int:
    counts = queue.get_job_counts(state)
    return counts[state] + counts.get(PAUSED, 0)  # a paused queue's waiting jobs count as paused


def job_view(queue: Queue, job: dict[str, Any]) -> dict[str, Any]:
    """A job's record plus when a delayed job is due (Redis's clock, epoch ms)."""
    if job["state"] == JobState.DELAYED:
        due = queue.client.zscore(queue.store.keys.delayed, job["id"])
        job["delayed_until"] = None if due is None else int(due)
    return job


@router.get("")
def list_jobs(
    queue: QueueDep,
    state: JobState = JobState.WAITING,
    page: Annotated[int, Query(ge=1, le=10**9, description="1 is the first page")] = 1,
    page_size: Annotated[
        int, Query(ge=1, description="jobs per page, at most PIPELINE_API_PAGE_SIZE_MAX")
    ] = 50,
    asc: bool = False,
) -> dict[str, Any]:
    """One page of the jobs in ``state`` (newest first unless ``asc``), with the state's total."""
    _check_page_size(page_size)
    start = (page - 1) * page_size
    jobs = [job_view(queue, j.as_dict()) for j in queue.get_jobs(state, start, start + page_size - 1, asc)]
    total = state_total(queue, state)
    return {
        "state": state,
        "total": total,
        "page": page,
        "page_size": page_size,
        "pages": max((total + page_size - 1) // page_size, 1),
        "jobs": jobs,
    }


@router.get("/search")
def search_jobs(
    queue: QueueDep,
    state: JobState = JobState.WAITING,
    name: Annotated[str | None, Query(max_length=500, description="only jobs of this job name")] = None,
    field: Annotated[
        str | None, Query(max_length=200, description="a top-level field of the job data")
    ] = None,
    value: Annotated[
        str | None, Query(max_length=2000, description="the field's value (compared as text)")
    ] = None,
    cursor: Annotated[int, Query(ge=0, le=10**9, description="where the previous window ended")] = 0,
    window: Annotated[int, Query(ge=1, le=SEARCH_WINDOW_MAX, description="jobs to read this time")] = 1_000,
    asc: bool = False,
) -> dict[str, Any]:
    """Look through one bounded window of a state's listing (never the whole keyspace) for jobs
    whose name and/or data field match; ``next_cursor`` continues where this window ended
    (``null`` at the end), and ``scanned`` says how far the search has looked."""
    if field is None and name is None:
        raise InvalidRequestError("give a job name, or a data field and value, to search for", field="field")
    if (field is None) != (value is None):
        raise InvalidRequestError("a data search needs both 'field' and 'value'", field="value")
    jobs = queue.get_jobs(state, cursor, cursor + window - 1, asc)
    matches = []
    for job in jobs:
        if name is not None and job.name != name:
            continue
        if field is not None and _as_text(job.data.get(field)) != value:
            continue
        matches.append(job_view(queue, job.as_dict()))
    total = state_total(queue, state)
    end = cursor + window
    return {
        "state": state,
        "total": total,
        "scanned_from": cursor,
        "scanned_to": min(end, total),
        "next_cursor": end if end < total else None,
        "matches": matches,
    }


def _as_text(raw: Any) -> str | None:
    if raw is None:
        return None
    return raw if isinstance(raw, str) else json.dumps(raw)


@router.post("", status_code=201, responses={404: {}})
def add_job(
    queue: str,
    job: NewJob,
    _: Admin,
    create: Annotated[bool, Query(description="allow this to be the first job of a new queue")] = False,
) -> dict[str, Any]:
    """Add a job.  A queue that does not exist yet is created only with ``create=true``."""
    if not create and not queue_exists(queue):
        raise UnknownQueueError(queue)
    added = Queue(queue).add(job.name, job.data, **job.opts)
    return added.as_dict() if added is not None else {"message": "repeat finished: nothing scheduled"}


@router.get("/{job_id}", responses={404: {}})
def get_job(
    queue: QueueDep,
    job_id: str,
    log_count: Annotated[int, Query(ge=0, le=LOG_PAGE_MAX, description="newest log lines to include")] = 100,
) -> dict[str, Any]:
    """One job: data, options, progress, result, failure reason, stack traces, timestamps,
    and its newest ``log_count`` log lines (``log_total`` says how many it has)."""
    job = queue.get_job(job_id)
    if job is None:
        raise JobNotFoundError(job_id, queue.name)
    total = int(queue.client.llen(queue.store.keys.logs(job_id)))
    logs = queue.get_job_logs(job_id, max(total - log_count, 0), -1) if log_count else []
    return {**job_view(queue, job.as_dict()), "logs": logs, "log_total": total}


@router.get("/{job_id}/logs", responses={404: {}})
def get_logs(
    queue: QueueDep,
    job_id: str,
    start: Annotated[int, Query(ge=0, le=10**9)] = 0,
    count: Annotated[int, Query(ge=1, le=LOG_PAGE_MAX)] = 100,
) -> dict[str, Any]:
    """A page of a job's log lines, oldest first from ``start``, with the total."""
    if queue.get_job(job_id) is None:
        raise JobNotFoundError(job_id, queue.name)
    total = int(queue.client.llen(queue.store.keys.logs(job_id)))
    return {"start": start, "total": total, "logs": queue.get_job_logs(job_id, start, start + count - 1)}


@router.post("/{job_id}/retry", responses={404: {}, 409: {}})
def retry_job(queue: QueueDep, job_id: str, _: Operator) -> dict[str, str]:
    """Move a failed job back to waiting."""
    queue.retry_job(job_id)
    return {"message": "Job retry initiated"}


@router.post("/{job_id}/promote", responses={404: {}, 409: {}})
def promote_job(queue: QueueDep, job_id: str, _: Operator) -> dict[str, str]:
    """Run a delayed job now."""
    queue.reschedule_job(job_id, 0)
    return {"message": "Job promoted"}


@router.post("/{job_id}/cancel", responses={404: {}, 409: {}})
def cancel_job(
    queue: QueueDep, job_id: str, _: Operator, body: CancelRequest | None = None
) -> dict[str, Any]:
    """Cancel a job: a pending one fails at once; a running one is asked to stop."""
    stopped_now = queue.cancel_job(job_id, (body or CancelRequest()).reason)
    return {"message": "Job cancelled" if stopped_now else "Cancel requested", "stopped": stopped_now}


@router.delete("/{job_id}", responses={404: {}, 409: {}})
def remove_job(queue: QueueDep, job_id: str, _: Operator) -> dict[str, str]:
    """Delete a job that is not running."""
    queue.remove_job(job_id)
    return {"message": "Job removed"}
