"""Where report data comes from: a small protocol, a real source and a sample one.

A report type names a data source.  ``queue-metrics`` reads the project's own
queues (job counts per state); ``sample-sales`` makes deterministic sample data
of any length, handy for demos and for exercising page breaks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from actors.errors import InvalidFiltersError, UnknownReportError
from pipeline.queue import Queue

Cell = str | int | float


@dataclass(frozen=True)
class ReportData:
    """What a report shows.

    Attributes:
        title: the heading (plain text: it is escaped, never read as markup).
        columns: column headings.
        rows: one tuple of cells per row, in column order.
        chart: (label, value) points for the bar chart; empty for none.
        chart_title: what the chart shows.
        notes: lines of plain text printed under the title (e.g. the filters used).
    """

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    chart: list[tuple[str, float]] = field(default_factory=list)
    chart_title: str = ""
    notes: list[str] = field(default_factory=list)


class DataSource(Protocol):
    """Fetches the data of one report type."""

    def fetch(self, filters: Mapping[str, Any]) -> ReportData:
        """The report's data for ``filters``; raises :class:`InvalidFiltersError` on bad filters."""
        ...


STATES = ("waiting", "active", "delayed", "completed", "failed")


class QueueMetricsSource:
    """Job counts per state for each queue of this deployment.

    Filters: ``queues`` (list of names; default: every queue known to Redis).
    """

    report_type = "queue-metrics"

    def __init__(
        self, queue: Callable[[str], Queue] = Queue, names: Callable[[], list[str]] | None = None
    ) -> None:
        self._queue = queue
        self._names = names

    def fetch(self, filters: Mapping[str, Any]) -> ReportData:
        names = filters.get("queues")
        if names is None:
            names = self._names() if self._names else known_queues()
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InvalidFiltersError(self.report_type, "'queues' must be a list of queue names")
        rows: list[tuple[Cell, ...]] = []
        for name in sorted(set(names)):
            counts = self._queue(name).get_job_counts(*STATES)
            rows.append((name, *(counts[s] for s in STATES)))
        return ReportData(
            title="Queue metrics",
            columns=("Queue", *(s.capitalize() for s in STATES)),
            rows=rows,
            chart=[(str(r[0]), float(sum(int(c) for c in r[1:]))) for r in rows],
            chart_title="Jobs per queue",
        )


def known_queues() -> list[str]:
    """Every queue name this deployment has used (read from Redis)."""
    from pipeline import wiring
    from pipeline.keys import queues_set

    raw: set[bytes] = wiring.get_client().smembers(queues_set(wiring.get_settings().namespace))  # type: ignore[assignment]
    return sorted(name.decode() for name in raw)


class SampleSalesSource:
    """Deterministic sample sales: one row per (month, region).

    Filters: ``rows`` (how many, 1..10000, default 60), ``region`` (only this
    region), ``seed`` (another sample).
    """

    report_type = "sample-sales"
    regions = ("North", "South", "East", "West", "Central")

    def fetch(self, filters: Mapping[str, Any]) -> ReportData:
        count = filters.get("rows", 60)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 10_000:
            raise InvalidFiltersError(self.report_type, "'rows' must be an integer from 1 to 10000")
        region = filters.get("region")
        if region is not None and not isinstance(region, str):
            raise InvalidFiltersError(self.report_type, "'region' must be a string")
        rng = random.Random(str(filters.get("seed", 0)))
        rows: list[tuple[Cell, ...]] = []
        index = 0
        while len(rows) < count:
            month = f"{2024 + index // 60:04d}-{(index // 5) % 12 + 1:02d}"
            name = region or self.regions[index % len(self.regions)]
            units = rng.randint(10, 500)
            rows.append((month, name, units, round(units * rng.uniform(9.5, 30.0), 2)))
            index += 1
        by_region: dict[str, float] = {}
        for row in rows:
            by_region[str(row[1])] = by_region.get(str(row[1]), 0.0) + float(row[3])
        return ReportData(
            title="Sales by month and region",
            columns=("Month", "Region", "Units", "Revenue"),
            rows=rows,
            chart=sorted(by_region.items()),
            chart_title="Revenue by region",
        )


def default_sources() -> dict[str, DataSource]:
    """The report types this project ships."""
    return {"queue-metrics": QueueMetricsSource(), "sample-sales": SampleSalesSource()}


def source_for(report_type: str, sources: Mapping[str, DataSource]) -> DataSource:
    """The source of ``report_type``, or :class:`UnknownReportError`."""
    source = sources.get(report_type)
    if source is None:
        raise UnknownReportError(report_type, list(sources))
    return source


def summarise(data: ReportData, filters: Mapping[str, Any]) -> ReportData:
    """Add a totals row for numeric columns and a line per filter used."""
    totals: list[Cell] = ["Total"]
    for column in range(1, len(data.columns)):
        values = [row[column] for row in data.rows]
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            totals.append(sum(int(v) for v in values))
        elif values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            totals.append(round(sum(float(v) for v in values), 2))
        else:
            totals.append("")
    notes = [*data.notes, *(f"{key}: {_plain(value)}" for key, value in sorted(filters.items()))]
    rows = [*data.rows, tuple(totals)] if data.rows else []
    return ReportData(data.title, data.columns, rows, data.chart, data.chart_title, notes)


def _plain(value: Any) -> str:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return ", ".join(str(v) for v in value)
    return str(value)
