"""The report pipeline of the seed: fetch, process, render, upload, with progress at each step."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from actors.errors import InvalidFiltersError
from actors.reports.pdf import render_pdf
from actors.reports.sources import DataSource, source_for, summarise
from actors.storage import Storage

Progress = Callable[[int], None]


def _no_progress(value: int) -> None:
    return None


def generate_report(
    report_type: str,
    filters: Mapping[str, Any] | None,
    *,
    sources: Mapping[str, DataSource],
    storage: Storage,
    progress: Progress = _no_progress,
    key: str | None = None,
    url_expires_s: int = 3600,
) -> dict[str, Any]:
    """Build the report, store it as a PDF and return ``{"url", "key", "bytes"}``.

    ``progress`` is told 25, 50, 75, 90 and 100 as the seed's processor does.
    ``key`` defaults to a fresh name; the actor passes one derived from the job
    id, so a retried attempt overwrites its own earlier upload instead of
    leaving orphans.  ``url`` is presigned for S3 (expiring after
    ``url_expires_s``) and a ``file://`` URI for the local store.
    """
    if filters is None:
        filters = {}
    if not isinstance(filters, Mapping) or not all(isinstance(k, str) for k in filters):
        raise InvalidFiltersError(report_type, "filters must be an object with string keys")
    source = source_for(report_type, sources)

    progress(25)
    data = source.fetch(filters)

    progress(50)
    processed = summarise(data, filters)

    progress(75)
    pdf = render_pdf(processed)

    progress(90)
    key = key or f"reports/{report_type}/{uuid.uuid4().hex}.pdf"
    storage.put_file(key, io.BytesIO(pdf), "application/pdf")
    url = storage.url(key, url_expires_s)

    progress(100)
    return {"url": url, "key": key, "bytes": len(pdf)}
