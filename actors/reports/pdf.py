"""Rendering a report as a multi-page PDF with reportlab.

Every piece of text that may come from a user (title, notes, cells, chart
labels) reaches reportlab as plain text: paragraphs get it XML-escaped, table
cells and chart labels are drawn as strings.  reportlab's paragraph markup
once evaluated attribute values as Python (CVE-2023-33733), so nothing a user
typed may ever be parsed as markup.
"""

from __future__ import annotations

import datetime
import io
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from actors.reports.sources import Cell, ReportData

#: Bars beyond this many would be unreadable at A4 width.
MAX_CHART_BARS = 20


def render_pdf(data: ReportData, *, generated_at: datetime.datetime | None = None) -> bytes:
    """The report as PDF bytes: title, notes, a bar chart, then the table.

    The table's header row repeats on every page it spills onto.
    """
    when = (generated_at or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=data.title,
        author="pipeline reports",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    styles = getSampleStyleSheet()
    story: list[Flowable] = [
        Paragraph(escape(data.title), styles["Title"]),
        Paragraph(escape(f"Generated {when}"), styles["Normal"]),
    ]
    story += [Paragraph(escape(note), styles["Normal"]) for note in data.notes]
    story.append(Spacer(1, 6 * mm))
    if data.chart:
        story += [_chart(data, document.width), Spacer(1, 6 * mm)]
    story.append(_table(data))

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(doc.leftMargin, 10 * mm, data.title[:120])
        canvas.drawRightString(doc.leftMargin + doc.width, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _format(cell: Cell) -> str:
    if isinstance(cell, float):
        return f"{cell:,.2f}"
    if isinstance(cell, int):
        return f"{cell:,}"
    return cell


def _table(data: ReportData) -> Table:
    rows = [list(data.columns), *([_format(c) for c in row] for row in data.rows)]
    if not data.rows:
        rows.append(["(no rows)"] + [""] * (len(data.columns) - 1))
    table = Table(rows, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#2f4f6f")),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#eef2f6")]),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b8c0")),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
            ]
        )
    )
    return table


def _chart(data: ReportData, width: float) -> Drawing:
    points = data.chart[:MAX_CHART_BARS]
    height = 60 * mm
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 12 * mm, 14 * mm
    chart.width, chart.height = width - 20 * mm, height - 24 * mm
    chart.data = [[value for _, value in points]]
    chart.categoryAxis.categoryNames = [label[:16] for label, _ in points]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    chart.bars[0].fillColor = colors.HexColor("#4f81bd")
    drawing.add(chart)
    drawing.add(String(0, height - 6 * mm, data.chart_title, fontName="Helvetica-Bold", fontSize=10))
    return drawing
