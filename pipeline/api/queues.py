"""Queue routes: list, counts and metrics, pause/resume, clean, workers, repeats."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Query

from pipeline.api.deps import QueueDep, known_queue_names
from pipeline.queue import Queue

router = APIRouter(prefix="/queues", tags=["queues"])


@router.get("")
def list_queues() -> list[dict[str, Any]]:
    """Every known queue with its job counts."""
    out = []
    for name in known_queue_names():
        queue = Queue(name)
        out.append({"name": name, "counts": queue.get_job_counts(), "paused": queue.is_paused()})
    return out


@router.get("/{queue}/metrics")
def queue_metrics(queue: QueueDep) -> dict[str, Any]:
    """Counts per state, and completed/failed per minute with durations (BullMQ's getMetrics)."""
    return {
        "counts": queue.get_job_counts(),
        "paused": queue.is_paused(),
        "completed": asdict(queue.get_metrics("completed", 0, 59)),
        "failed": asdict(queue.get_metrics("failed", 0, 59)),
        "rate_limit": queue.get_rate_limit(),
    }


@router.post("/{queue}/pause")
def pause(queue: QueueDep) -> dict[str, str]:
    queue.pause()
    return {"message": "Queue paused"}


@router.post("/{queue}/resume")
def resume(queue: QueueDep) -> dict[str, str]:
    queue.resume()
    return {"message": "Queue resumed"}


@router.delete("/{queue}/clean")
def clean(
    queue: QueueDep,
    grace: int = Query(0, ge=0, description="only jobs finished more than this many ms ago"),
    status: Literal["completed", "failed"] = "completed",
) -> dict[str, Any]:
    removed = queue.clean(grace, status)
    return {"message": "Queue cleaned", "removed": len(removed)}


@router.get("/{queue}/workers")
def workers(queue: QueueDep) -> list[dict[str, Any]]:
    return queue.get_workers()


@router.get("/{queue}/repeats")
def repeats(queue: QueueDep) -> list[dict[str, Any]]:
    return [asdict(r) for r in queue.get_repeatable_jobs()]
