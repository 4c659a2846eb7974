"""File conversion without a queue: the chunk loop and CSV to JSON Lines."""

from __future__ import annotations

import json

import pytest

from actors.errors import InvalidFileError, UnsupportedConversionError
from actors.files.convert import check_conversion, csv_chunks, rows_to_jsonl, run_in_chunks


def test_progress_is_reported_after_every_chunk_up_to_100() -> None:
    seen: list[int] = []
    run = run_in_chunks([b"a", b"b", b"c"], bytes.upper, report=seen.append, still_wanted=lambda: True)
    assert seen == [33, 66, 100]
    assert run.outputs == [b"A", b"B", b"C"] and not run.stopped_early and run.chunks_done == 3


def test_the_loop_stops_at_the_next_chunk_once_the_job_is_no_longer_wanted() -> None:
    seen: list[int] = []
    wanted = iter([True, False])
    run = run_in_chunks(
        list(range(10)), lambda n: b"x", report=seen.append, still_wanted=lambda: next(wanted)
    )
    assert run.stopped_early and run.chunks_done == 2 and run.total_chunks == 10 and seen == [10, 20]


def test_csv_rows_become_json_lines_in_chunks() -> None:
    data = b'name,city\r\nAda,London\r\n"Lovelace, A.","Paris"\r\nBo,Oslo\r\n'
    chunks = csv_chunks("files/people.csv", data, rows_per_chunk=2)
    assert [len(c) for c in chunks] == [2, 1]
    lines = b"".join(rows_to_jsonl(c) for c in chunks).decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"name": "Ada", "city": "London"},
        {"name": "Lovelace, A.", "city": "Paris"},
        {"name": "Bo", "city": "Oslo"},
    ]


def test_a_byte_order_mark_is_not_part_of_the_first_header() -> None:
    assert csv_chunks("files/x.csv", "\ufeffid\n1\n".encode(), 10) == [[{"id": "1"}]]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe\x00binary", "not UTF-8"),
        (b"a,b\n1,2,3\n", "more fields"),
        (b'a\n"unclosed\n', "not valid CSV"),
    ],
)
def test_files_that_are_not_csv_are_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidFileError, match=reason):
        csv_chunks("files/x.csv", data, 10)


def test_only_known_conversions_are_accepted() -> None:
    check_conversion("files/a.CSV", "jsonl")
    with pytest.raises(UnsupportedConversionError, match="'pdf' to 'jsonl'"):
        check_conversion("files/a.pdf", "jsonl")
    with pytest.raises(UnsupportedConversionError, match="no extension"):
        check_conversion("files/a", "jsonl")
