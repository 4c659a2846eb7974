"""Actors of the demo queue (``pipeline demo``): jobs that show every state."""

from __future__ import annotations

import time
from typing import Any

from pipeline.actor import actor
from pipeline.context import current_job

QUEUE = "demo"


@actor(queue_name=QUEUE, job_name="resize", attempts=1)
def resize(image: str, width: int) -> dict[str, Any]:
    job = current_job()
    for step in (25, 50, 75, 100):
        time.sleep(0.2)
        job.update_progress(step)
    job.log(f"resized {image} to {width}px")
    return {"image": image, "width": width}


@actor(queue_name=QUEUE, job_name="flaky-send", attempts=3, backoff={"type": "exponential", "delay": 300})
def flaky_send(to: str) -> str:
    job = current_job()
    if job.attempts_made < 2:
        raise ConnectionError(f"SMTP temporarily unavailable for {to} (attempt {job.attempts_made + 1})")
    return f"sent to {to}"


@actor(queue_name=QUEUE, job_name="broken", attempts=2, backoff=200)
def broken(reason: str) -> None:
    raise ValueError(reason)


@actor(queue_name=QUEUE, job_name="export", attempts=1)
def export(rows: int, seconds: float = 120.0) -> dict[str, Any]:
    """A long job, so ``pipeline up --demo`` shows one running, its progress moving."""
    job = current_job()
    steps = 20
    for step in range(1, steps + 1):
        if job.is_cancelled():
            return {"rows": rows * (step - 1) // steps, "cancelled": True}
        time.sleep(seconds / steps)
        job.update_progress(step * 100 // steps)
    return {"rows": rows}
