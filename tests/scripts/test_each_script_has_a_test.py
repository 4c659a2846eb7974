"""Every Lua script has a test file of its own here, named for it."""

from __future__ import annotations

from pathlib import Path

from pipeline.scripts import script_names


def test_every_script_has_a_test_file_named_for_it() -> None:
    tested = {p.stem.removeprefix("test_") for p in Path(__file__).parent.glob("test_*.py")}

    assert set(script_names()) <= tested
