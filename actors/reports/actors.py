"""The reports queue's handler: the seed's ``generate`` with progress 25/50/75/90/100."""

from __future__ import annotations

from typing import Any

from actors import deps
from actors.reports.generate import generate_report
from actors.reports.sources import default_sources
from pipeline import actor, current_job

QUEUE = "reports"


@actor(queue_name=QUEUE, job_name="generate", attempts=2, timeout=300_000)
def generate(report_type: str, filters: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the report, upload the PDF, return ``{"url": ...}`` (presigned when on S3)."""
    job = current_job()
    return generate_report(
        report_type,
        filters,
        sources=default_sources(),
        storage=deps.storage(),
        progress=job.update_progress,
        # Named after the job, so a second attempt replaces the first one's upload.
        key=f"reports/{report_type}/{job.id}.pdf",
        url_expires_s=deps.settings().s3_presign_expiry_s,
    )
