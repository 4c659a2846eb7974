"""The reports producer: the seed's ``ReportsService``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actors.producer import QueueProducer

QUEUE = "reports"


class ReportsService(QueueProducer):
    """Queues report generation.  Pass ``queue`` to use another queue object."""

    queue_name = QUEUE

    def generate_report(self, report_type: str, filters: Mapping[str, Any] | None = None) -> dict[str, str]:
        """Queue a report (2 attempts, 5-minute timeout); returns ``{"job_id": ...}``."""
        job = self.queue.add(
            "generate",
            {"report_type": report_type, "filters": dict(filters or {})},
            attempts=2,
            timeout=300_000,
        )
        return {"job_id": job.id}
