"""drain.lua: delete waiting and delayed jobs, a batch per call (Bull's queue.empty())."""

from __future__ import annotations

from tests.scripts.conftest import MAX_LEN, Lua


def _drain(lua: Lua, limit: int) -> int:
    k = lua.k
    keys = lua.keys("drain")
    return int(lua("drain", keys, [limit, k.job_prefix, k.logs_prefix, MAX_LEN]))


def test_it_deletes_pending_jobs_a_batch_per_call_until_none_is_left(lua: Lua) -> None:
    lua.add("plain")
    lua.add("urgent", priority=1)
    lua.add("later", delay=60_000)
    lua.client.zadd(lua.k.limited, {"parked": 1})

    assert _drain(lua, 2) == 2
    assert _drain(lua, 2) == 2
    assert _drain(lua, 2) == 0

    assert lua.waiting() == [] and lua.ids(lua.k.delayed) == [] and lua.ids(lua.k.limited) == []
    assert not lua.client.exists(lua.k.prioritized_age)
    assert all(lua.record(j) == {} for j in ("plain", "urgent", "later"))
    cleaned = [e for e in lua.events() if e["event"] == "cleaned"]
    assert [(e["count"], e["state"]) for e in cleaned] == [("2", "waiting"), ("2", "waiting")]


def test_running_and_finished_jobs_stay(lua: Lua) -> None:
    lua.add("a")
    lua.add("b")
    tokens = lua.take(1)

    assert _drain(lua, 10) == 1
    assert lua.record(next(iter(tokens)))["state"] == "active"
