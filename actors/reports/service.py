"""The reports producer: the seed's ``ReportsService``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.queue import Queue

QUEUE = "reports"


class ReportsService:
    """Queues report generation.  Pass ``queue`` to use another queue object."""

    def __init__(self, queue: Queue | None = None) -> None:
        self._queue = queue

    @property
    def queue(self) -> Queue:
        if self._queue is None:
            self._queue = Queue(QUEUE)
        return self._queue

    def generate_report(self, report_type: str, filters: Mapping[str, Any] | None = None) -> dict[str, str]:
        """Queue a report (2 attempts, 5-minute timeout); returns ``{"job_id": ...}``."""
        job = self.queue.add(
            "generate",
            {"report_type": report_type, "filters": dict(filters or {})},
            attempts=2,
            timeout=300_000,
        )
        return {"job_id": job.id}
