"""pause.lua: pause or resume a queue for every worker."""

from __future__ import annotations

from pipeline.codes import Code
from tests.scripts.conftest import MAX_LEN, Lua


def _pause(lua: Lua, action: str):
    return lua("pause", lua.keys("pause"), [action, MAX_LEN])


def test_pausing_and_resuming_change_the_state_once_each(lua: Lua) -> None:
    assert _pause(lua, "pause") == Code.DONE
    assert lua.client.hget(lua.k.meta, "paused") == b"1"
    assert _pause(lua, "pause") == Code.UNCHANGED

    assert _pause(lua, "resume") == Code.DONE
    assert lua.client.hget(lua.k.meta, "paused") is None
    assert _pause(lua, "resume") == Code.UNCHANGED

    assert [e["event"] for e in lua.events()] == ["paused", "resumed"]


def test_resuming_rings_the_doorbell_for_every_blocked_worker(lua: Lua) -> None:
    _pause(lua, "pause")

    _pause(lua, "resume")

    assert lua.client.llen(lua.k.marker) == 64
