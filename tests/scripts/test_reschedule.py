"""reschedule.lua: a delayed job's new due time, or promotion now."""

from __future__ import annotations

from pipeline.codes import Code
from tests.scripts.conftest import MAX_LEN, Lua


def _reschedule(lua: Lua, job_id: str, delay_ms: int):
    keys = lua.keys("reschedule", job_id)
    return lua("reschedule", keys, [job_id, delay_ms, MAX_LEN])


def test_a_new_delay_moves_the_due_time(lua: Lua) -> None:
    lua.add("d", delay=1_000)
    first = lua.client.zscore(lua.k.delayed, "d")

    assert _reschedule(lua, "d", 120_000) == Code.DONE

    due = lua.client.zscore(lua.k.delayed, "d")
    assert first is not None and due is not None and due > first
    last = lua.events()[-1]
    assert (last["event"], int(last["delay"])) == ("delayed", due)


def test_delay_zero_promotes_the_job_now(lua: Lua) -> None:
    lua.add("d", delay=60_000, priority=4)

    assert _reschedule(lua, "d", 0) == Code.DONE

    assert lua.record("d")["state"] == "waiting" and lua.waiting() == ["d"]
    last = lua.events()[-1]
    assert (last["event"], last["prev"]) == ("waiting", "delayed")


def test_a_job_that_is_not_delayed_or_does_not_exist_is_refused(lua: Lua) -> None:
    lua.add("w")

    assert _reschedule(lua, "w", 0) == Code.WRONG_STATE
    assert _reschedule(lua, "nobody", 0) == Code.NO_SUCH_JOB
