"""repeat_remove.lua: delete one repeatable job's definition."""

from __future__ import annotations

from pipeline.codes import Code
from pipeline.keys import RepeatKeys
from tests.scripts.conftest import Lua


def test_removing_a_definition_gives_its_pending_occurrence(lua: Lua) -> None:
    r = RepeatKeys.for_queue(lua.namespace, "q")
    lua.client.sadd(r.index, "r1")
    lua.client.hset(r.definition("r1"), mapping={"next": "1000", "count": "1"})

    assert lua("repeat_remove", [r.index, r.definition("r1")], ["r1"]) == [Code.DONE, b"1000"]

    assert not lua.client.exists(r.index, r.definition("r1"))


def test_removing_one_that_does_not_exist_changes_nothing(lua: Lua) -> None:
    r = RepeatKeys.for_queue(lua.namespace, "q")

    assert lua("repeat_remove", [r.index, r.definition("r9")], ["r9"]) == [Code.UNCHANGED, b""]
