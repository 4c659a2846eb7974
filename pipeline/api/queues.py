"""Queue routes: list with counts, metrics, workers, repeats and rate limits; the
queue-wide actions (pause/resume, clean, empty); the audit log."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from pipeline.api import audit
from pipeline.api.deps import QueueDep, known_queue_names
from pipeline.api.problems import InvalidRequestError, NotFoundError
from pipeline.api.security import Admin, Operator
from pipeline.queue import Queue
from pipeline.states import FinalState, JobState

router = APIRouter(tags=["queues"])


class RateLimit(BaseModel):
    """At most ``max`` jobs start in any window of ``duration`` ms (per ``group_key`` value if given)."""

    max: int = Field(ge=1, le=10**9)
    duration: int = Field(ge=1, le=10**12)
    group_key: str | None = Field(default=None, min_length=1, max_length=200)


@router.get("/queues")
def list_queues() -> list[dict[str, Any]]:
    """Every known queue with its job counts."""
    out = []
    for name in known_queue_names():
        queue = Queue(name)
        out.append({"name": name, "counts": queue.get_job_counts(), "paused": queue.is_paused()})
    return out


@router.get("/queues/{queue}/metrics", responses={404: {}})
def queue_metrics(
    queue: QueueDep, minutes: Annotated[int, Query(ge=1, le=1440, description="minutes of history")] = 60
) -> dict[str, Any]:
    """Counts per state, and completed/failed per minute with durations (BullMQ's getMetrics)."""
    return {
        "counts": queue.get_job_counts(),
        "paused": queue.is_paused(),
        JobState.COMPLETED: asdict(queue.get_metrics(JobState.COMPLETED, 0, minutes - 1)),
        JobState.FAILED: asdict(queue.get_metrics(JobState.FAILED, 0, minutes - 1)),
        "rate_limit": queue.get_rate_limit(),
    }


@router.post("/queues/{queue}/pause", responses={404: {}})
def pause(queue: QueueDep, _: Operator) -> dict[str, str]:
    """Stop every worker from starting jobs of the queue; running ones finish."""
    queue.pause()
    return {"message": "Queue paused"}


@router.post("/queues/{queue}/resume", responses={404: {}})
def resume(queue: QueueDep, _: Operator) -> dict[str, str]:
    queue.resume()
    return {"message": "Queue resumed"}


@router.delete("/queues/{queue}/clean", responses={404: {}})
def clean(
    queue: QueueDep,
    _: Operator,
    grace_ms: Annotated[
        int | None, Query(ge=0, le=10**13, description="only jobs finished more than this many ms ago")
    ] = None,
    status: FinalState = FinalState.COMPLETED,
    grace: Annotated[
        int | None, Query(ge=0, le=10**13, deprecated=True, description="the old name of grace_ms")
    ] = None,
) -> dict[str, Any]:
    """Delete completed (or failed) jobs that finished more than ``grace_ms`` ms ago."""
    if grace_ms is not None and grace is not None:
        raise InvalidRequestError("give grace_ms or its old name grace, not both", field="grace")
    removed = queue.clean(grace_ms if grace is None else grace, status)
    return {"message": f"Removed {len(removed)} {status} job(s)", "removed": len(removed)}


@router.post("/queues/{queue}/promote-all", responses={404: {}})
def promote_all(queue: QueueDep, _: Operator) -> dict[str, Any]:
    """Run every delayed job now (the soonest due first)."""
    promoted = queue.promote_jobs()
    return {"message": f"Promoted {promoted} delayed job(s)", "promoted": promoted}


@router.post("/queues/{queue}/retry-failed", responses={404: {}})
def retry_failed(queue: QueueDep, _: Operator) -> dict[str, Any]:
    """Move every failed job back to waiting (the oldest failure first)."""
    retried = queue.retry_jobs(JobState.FAILED)
    return {"message": f"Retried {retried} failed job(s)", "retried": retried}


@router.delete("/queues/{queue}", responses={404: {}, 409: {}})
def remove_queue(
    queue: QueueDep,
    _: Admin,
    force: Annotated[bool, Query(description="also delete jobs that are running")] = False,
) -> dict[str, Any]:
    """Delete the queue entirely: its jobs in every state, logs, events, metrics, repeats and
    settings.  Refused (409) while jobs are running unless ``force``."""
    removed = queue.obliterate(force=force)
    return {"message": f"Removed queue {queue.name!r} and its {removed} job(s)", "removed": removed}


@router.delete("/queues/{queue}/waiting", responses={404: {}})
def empty(queue: QueueDep, _: Admin) -> dict[str, Any]:
    """Delete every waiting and delayed job (Bull's ``empty``)."""
    removed = queue.empty()
    return {"message": f"Removed {removed} waiting or delayed job(s)", "removed": removed}


@router.get("/queues/{queue}/workers", responses={404: {}})
def workers(queue: QueueDep) -> list[dict[str, Any]]:
    """Live worker processes serving the queue: host, pid, queues, last heartbeat."""
    return queue.get_workers()


@router.get("/queues/{queue}/repeats", responses={404: {}})
def repeats(queue: QueueDep) -> list[dict[str, Any]]:
    """Repeat definitions, the next to fire first."""
    return [asdict(r) for r in queue.get_repeatable_jobs()]


@router.delete("/queues/{queue}/repeats/{key}", responses={404: {}})
def remove_repeat(queue: QueueDep, key: str, _: Admin) -> dict[str, str]:
    """Stop a repeat and drop its pending occurrence."""
    if not queue.remove_repeatable(key):
        raise NotFoundError(f"queue {queue.name!r} has no repeat {key!r}")
    return {"message": "Repeat removed"}


@router.put("/queues/{queue}/rate-limit", responses={404: {}})
def set_rate_limit(queue: QueueDep, limit: RateLimit, _: Admin) -> dict[str, Any]:
    queue.set_rate_limit(limit.max, limit.duration, limit.group_key)
    return {"message": "Rate limit set", "rate_limit": queue.get_rate_limit()}


@router.delete("/queues/{queue}/rate-limit", responses={404: {}})
def remove_rate_limit(queue: QueueDep, _: Admin) -> dict[str, str]:
    queue.remove_rate_limit()
    return {"message": "Rate limit removed"}


@router.get("/audit")
def audit_log(
    count: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[str | None, Query(pattern=r"^\d{1,20}-\d{1,20}$", description="an entry id")] = None,
) -> list[dict[str, Any]]:
    """Mutating actions, newest first: who, role, action, queue, job, when (epoch ms), outcome."""
    return audit.read(count, before)
