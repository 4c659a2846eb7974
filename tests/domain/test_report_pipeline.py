"""Reports end to end: ReportsService -> worker -> PDF in S3 (moto) -> presigned download."""

from __future__ import annotations

import io
import urllib.request
from collections.abc import Callable

from pypdf import PdfReader

from actors.reports.service import ReportsService
from actors.storage import S3Storage
from pipeline.queue import Queue
from tests.domain.servers import S3Server, existing
from tests.support import WorkerProcess


def download_pdf_text(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read()
    assert body.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(body))
    return len(reader.pages), " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_a_report_job_reports_progress_to_100_and_returns_a_url_to_the_pdf(
    make_queue: Callable[[str], Queue],
    s3_server: S3Server,
    s3_storage: S3Storage,
    domain_worker: Callable[..., WorkerProcess],
) -> None:
    domain_worker(env=s3_server.env(s3_storage.bucket))
    queue = make_queue("reports")

    job_id = ReportsService(queue).generate_report("sample-sales", {"rows": 120, "region": "East"})["job_id"]

    job = queue.get_job(job_id)
    assert job is not None and job.opts["attempts"] == 2 and job.opts["timeout"] == 300_000
    result = job.wait_until_finished(60)
    assert existing(queue, job_id).progress == 100
    assert set(result) == {"url", "key", "bytes"} and "X-Amz-Signature=" in result["url"]
    pages, text = download_pdf_text(result["url"])
    assert pages >= 3
    assert text.startswith("Sales by month and region") and "region: East" in text
    assert text.count(" East ") >= 120 and "Total" in text


def test_the_queue_metrics_report_shows_the_deployments_own_queues(
    make_queue: Callable[[str], Queue],
    s3_server: S3Server,
    s3_storage: S3Storage,
    domain_worker: Callable[..., WorkerProcess],
) -> None:
    domain_worker(env=s3_server.env(s3_storage.bucket))
    make_queue("email").add("welcome", {"email": "ada@example.com"}, delay=600_000)
    reports = make_queue("reports")

    job_id = ReportsService(reports).generate_report("queue-metrics", {})["job_id"]

    result = existing(reports, job_id).wait_until_finished(60)
    _, text = download_pdf_text(result["url"])
    assert text.startswith("Queue metrics")
    assert "email 0 0 1 0 0" in text  # waiting, active, delayed, completed, failed
    assert "reports 0 1 0 0 0" in text  # the report's own job, running while it counts
