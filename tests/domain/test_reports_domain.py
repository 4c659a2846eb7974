"""Reports without a queue: data sources, a real multi-page PDF read back, upload and download."""

from __future__ import annotations

import io
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from actors.errors import InvalidFiltersError, UnknownReportError
from actors.reports.generate import generate_report
from actors.reports.pdf import render_pdf
from actors.reports.sources import (
    DataSource,
    QueueMetricsSource,
    ReportData,
    SampleSalesSource,
    default_sources,
    summarise,
)
from actors.storage import LocalStorage, S3Storage
from pipeline.queue import Queue
from pipeline.settings import Settings
from tests.support import unique

# The proof of concept of CVE-2023-33733: markup whose colour attribute reportlab evaluated.
EXPLOIT = (
    "<para><font color=\"[[[getattr(pow, Word('__globals__'))['os'].system('touch {marker}') "
    "for Word in [ orgTypeFun( 'Word', (str,), {{ 'mutated': 1, 'startswith': lambda self, x: 1 == 0, "
    "'__eq__': lambda self, x: self.mutate() and self.mutated < 0 and str(self) == x, "
    "'mutate': lambda self: {{ setattr(self, 'mutated', self.mutated - 1) }}, "
    "'__hash__': lambda self: hash(str(self)), }}, ) ] ] for orgTypeFun in [type(type(1))] "
    "for none in [[].append(1)]]] and 'red'\">exploit</font></para>"
)


def pdf_text(data: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(data))
    # Cells come out one per line; joining on single spaces makes rows read as rows.
    return reader, [" ".join(page.extract_text().split()) for page in reader.pages]


def test_sample_sales_are_deterministic_and_filterable() -> None:
    source = SampleSalesSource()
    assert source.fetch({"rows": 5}) == source.fetch({"rows": 5})
    only_west = source.fetch({"rows": 7, "region": "West"})
    assert len(only_west.rows) == 7 and {row[1] for row in only_west.rows} == {"West"}


@pytest.mark.parametrize("filters", [{"rows": 0}, {"rows": "10"}, {"rows": True}, {"region": 3}])
def test_bad_sample_filters_are_rejected(filters: dict[str, Any]) -> None:
    with pytest.raises(InvalidFiltersError):
        SampleSalesSource().fetch(filters)


def test_summarise_adds_a_totals_row_and_lists_the_filters() -> None:
    data = ReportData("T", ("Name", "Count", "Amount"), [("a", 1, 1.5), ("b", 2, 2.25)])
    summary = summarise(data, {"region": "West"})
    assert summary.rows[-1] == ("Total", 3, 3.75)
    assert summary.notes == ["region: West"]


def test_queue_metrics_report_counts_jobs_per_state(settings: Settings) -> None:
    name = unique("q")
    queue = Queue(name, settings=settings)
    queue.add("a", {})
    queue.add("b", {}, delay=60_000)

    data = QueueMetricsSource(lambda n: Queue(n, settings=settings)).fetch({"queues": [name]})

    assert data.columns == ("Queue", "Waiting", "Active", "Delayed", "Completed", "Failed")
    assert data.rows == [(name, 1, 0, 1, 0, 0)]
    assert data.chart == [(name, 2.0)]


def test_a_long_table_breaks_across_pages_repeating_its_header() -> None:
    data = summarise(SampleSalesSource().fetch({"rows": 150}), {"rows": 150})

    reader, pages = pdf_text(render_pdf(data))

    assert len(reader.pages) >= 3
    assert reader.metadata is not None and reader.metadata.title == "Sales by month and region"
    assert "Sales by month and region" in pages[0]
    assert all("Month" in text and "Revenue" in text for text in pages), "header row on every page"
    text = "\n".join(pages)
    assert "Total" in pages[-1]
    for month, region, units, _ in data.rows[:-1:37]:
        assert f"{month} {region} {units:,}" in text


def test_user_text_is_printed_as_text_never_evaluated_as_markup(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    exploit = EXPLOIT.format(marker=marker)
    data = summarise(ReportData(exploit, ("A",), [(exploit,)]), {"note": exploit})

    _, pages = pdf_text(render_pdf(data))

    assert not marker.exists()
    assert "<para><font color=" in "".join(pages)


def test_unknown_report_types_fail_as_unrecoverable() -> None:
    with pytest.raises(UnknownReportError, match="known: queue-metrics, sample-sales"):
        generate_report("payroll", {}, sources=default_sources(), storage=LocalStorage("/nonexistent"))


def test_the_pipeline_reports_progress_and_uploads_a_pdf_whose_url_downloads(s3_storage: S3Storage) -> None:
    seen: list[int] = []
    sources: dict[str, DataSource] = {"sample-sales": SampleSalesSource()}

    result = generate_report(
        "sample-sales",
        {"rows": 80, "region": "North"},
        sources=sources,
        storage=s3_storage,
        progress=seen.append,
    )

    assert seen == [25, 50, 75, 90, 100]
    assert result["key"].startswith("reports/sample-sales/") and result["key"].endswith(".pdf")
    with urllib.request.urlopen(result["url"], timeout=10) as response:
        body = response.read()
    assert body.startswith(b"%PDF") and len(body) == result["bytes"]
    _, pages = pdf_text(body)
    assert "Sales by month and region" in pages[0] and "region: North" in pages[0]


def test_the_local_store_gives_a_file_url(tmp_path: Path) -> None:
    result = generate_report(
        "sample-sales", None, sources=default_sources(), storage=LocalStorage(tmp_path), key="reports/r.pdf"
    )
    assert result["url"] == (tmp_path / "reports" / "r.pdf").as_uri()
    assert (tmp_path / "reports" / "r.pdf").read_bytes().startswith(b"%PDF")
