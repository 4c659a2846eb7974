"""repeat_claim.lua: of the schedulers racing for one fire, exactly one claims it."""

from __future__ import annotations

from pipeline.codes import Code
from pipeline.keys import RepeatKeys
from tests.scripts.conftest import Lua


def _definition(lua: Lua, **fields: str) -> str:
    key = RepeatKeys.for_queue(lua.namespace, "q").definition("r1")
    lua.client.hset(key, mapping=fields)
    return key


def test_the_first_claim_moves_the_definition_on_and_the_second_loses(lua: Lua) -> None:
    key = _definition(lua, next="1000", count="1", limit="")  # as repeat_add stores "no limit"

    assert lua("repeat_claim", [key], ["1000", "2000"]) == Code.DONE
    assert lua("repeat_claim", [key], ["1000", "2000"]) == Code.UNCHANGED

    assert lua.client.hmget(key, "next", "count") == [b"2000", b"2"]


def test_a_repeat_at_its_limit_or_without_a_next_fire_is_finished(lua: Lua) -> None:
    at_limit = _definition(lua, next="1000", count="3", limit="3")

    assert lua("repeat_claim", [at_limit], ["1000", "2000"]) == Code.REPEAT_FINISHED
    assert lua.client.hget(at_limit, "next") == b""
    lua.client.hset(at_limit, mapping={"next": "1000", "limit": "10"})
    assert lua("repeat_claim", [at_limit], ["1000", ""]) == Code.REPEAT_FINISHED


def test_a_removed_definition_cannot_be_claimed(lua: Lua) -> None:
    key = RepeatKeys.for_queue(lua.namespace, "q").definition("gone")

    assert lua("repeat_claim", [key], ["1000", "2000"]) == Code.UNCHANGED
    assert not lua.client.exists(key)
