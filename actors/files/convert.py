"""Chunked file conversion, the seed's progress-tracking loop made real.

The loop reports progress after every chunk and then asks whether the job is
still wanted; a conversion whose job was cancelled or removed stops at the
next chunk boundary instead of running to the end for nobody.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from actors.errors import InvalidFileError, UnsupportedConversionError

T = TypeVar("T")

#: (source extension, target) pairs this module converts.
SUPPORTED = {("csv", "jsonl")}


@dataclass(frozen=True)
class ChunkedRun:
    """How a chunked run went.

    Attributes:
        outputs: the converted chunks, in order.
        chunks_done: how many chunks were converted.
        total_chunks: how many there were.
        stopped_early: whether the run stopped because its job was no longer wanted.
    """

    outputs: list[bytes]
    chunks_done: int
    total_chunks: int
    stopped_early: bool


def run_in_chunks(
    chunks: Sequence[T],
    convert: Callable[[T], bytes],
    *,
    report: Callable[[int], None],
    still_wanted: Callable[[], bool],
    pause_s: float = 0.0,
) -> ChunkedRun:
    """Convert each chunk, report progress (0-100) after each, stop once ``still_wanted()`` is false."""
    outputs: list[bytes] = []
    total = len(chunks)
    for index, chunk in enumerate(chunks):
        outputs.append(convert(chunk))
        report(100 * (index + 1) // total)
        if index + 1 < total and not still_wanted():
            return ChunkedRun(outputs, index + 1, total, stopped_early=True)
        if pause_s:
            time.sleep(pause_s)
    return ChunkedRun(outputs, total, total, stopped_early=False)


def check_conversion(key: str, target: str) -> None:
    """Raise :class:`UnsupportedConversionError` unless ``key``'s type converts to ``target``."""
    source = key.rpartition(".")[2].lower() if "." in key else ""
    if (source, target) not in SUPPORTED:
        raise UnsupportedConversionError(source or "(no extension)", target)


def csv_chunks(key: str, data: bytes, rows_per_chunk: int) -> list[list[dict[str, str]]]:
    """The CSV's rows (as header -> value dicts), grouped ``rows_per_chunk`` at a time."""
    if rows_per_chunk < 1:
        raise ValueError(f"rows_per_chunk must be >= 1, got {rows_per_chunk}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidFileError(key, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        rows = list(_rows(csv.DictReader(io.StringIO(text, newline=""), strict=True)))
    except csv.Error as exc:
        raise InvalidFileError(key, f"not valid CSV: {exc}") from None
    return [rows[i : i + rows_per_chunk] for i in range(0, len(rows), rows_per_chunk)] or [[]]


def _rows(reader: csv.DictReader[str]) -> Iterator[dict[str, str]]:
    for row in reader:
        if None in row:
            raise csv.Error(f"line {reader.line_num} has more fields than the header")
        yield {k: v for k, v in row.items() if k is not None}


def rows_to_jsonl(rows: list[dict[str, str]]) -> bytes:
    return b"".join(json.dumps(row, ensure_ascii=False).encode() + b"\n" for row in rows)
