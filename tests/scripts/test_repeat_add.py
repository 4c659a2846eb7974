"""repeat_add.lua: create or update one repeatable job's definition."""

from __future__ import annotations

from pipeline.codes import Code
from pipeline.keys import RepeatKeys
from tests.scripts.conftest import Lua


def _repeat_add(lua: Lua, first: str, *fields: str) -> tuple[int, str]:
    r = RepeatKeys.for_queue(lua.namespace, "q")
    code, next_run = lua("repeat_add", [r.index, r.definition("r1")], ["r1", first, *fields])
    return int(code), next_run.decode()


def test_a_new_definition_takes_its_first_occurrence(lua: Lua) -> None:
    assert _repeat_add(lua, "1000", "name", "tick", "every", "60000", "limit", "") == (Code.DONE, "1000")

    r = RepeatKeys.for_queue(lua.namespace, "q")
    assert lua.client.smembers(r.index) == {b"r1"}
    stored = lua.client.hgetall(r.definition("r1"))
    assert (stored[b"name"], stored[b"next"], stored[b"count"], stored[b"rev"]) == (
        b"tick",
        b"1000",
        b"1",
        b"1",
    )


def test_adding_it_again_updates_it_and_keeps_its_pending_occurrence(lua: Lua) -> None:
    _repeat_add(lua, "1000", "every", "60000", "limit", "")

    assert _repeat_add(lua, "5000", "every", "30000", "limit", "") == (Code.UNCHANGED, "1000")

    stored = lua.client.hgetall(RepeatKeys.for_queue(lua.namespace, "q").definition("r1"))
    assert (stored[b"every"], stored[b"count"], stored[b"rev"]) == (b"30000", b"1", b"2")


def test_a_definition_with_no_fire_left_has_nothing_pending(lua: Lua) -> None:
    assert _repeat_add(lua, "", "every", "60000", "limit", "") == (Code.UNCHANGED, "")
