"""extend_locks.lua: renew a worker's locks, register it as a holder, report cancels and losses."""

from __future__ import annotations

from tests.scripts.conftest import MAX_LEN, Lua


def _extend(lua: Lua, holder: str, *pairs: str) -> list[list[str]]:
    k = lua.k
    keys = lua.keys("extend_locks")
    reply = lua("extend_locks", keys, [60_000, k.job_prefix, holder, MAX_LEN, *pairs])
    return [[item.decode() for item in part] for part in reply]


def test_held_locks_are_pushed_out_and_the_holder_is_registered(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]
    before = lua.client.zscore(lua.k.active, "a")

    assert _extend(lua, "5000|60000|p1", "a", token) == [[], [], []]

    after = lua.client.zscore(lua.k.active, "a")
    assert before is not None and after is not None and after > before
    assert lua.ids(lua.k.holders) == ["5000|60000|p1"]


def test_a_cancel_request_and_a_lost_job_are_reported(lua: Lua) -> None:
    lua.add("a")
    lua.add("b")
    tokens = lua.take()
    lua.client.hset(lua.k.job("a"), "cancelled", "stop")

    assert _extend(lua, "", "a", tokens["a"], "b", "999") == [["a"], ["b"], []]


def test_a_job_a_sweep_put_back_and_nobody_took_is_taken_back_uncounted(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]
    # As the stall sweep leaves it: waiting again, marked reclaimed with its token, one stall counted.
    lua.client.zrem(lua.k.active, "a")
    lua.client.hset(lua.k.job("a"), mapping={"state": "waiting", "reclaimed": token, "stalled_count": 1})
    lua.client.lpush(lua.k.wait, "a")

    assert _extend(lua, "", "a", token) == [[], [], ["a"]]

    record = lua.record("a")
    assert (record["state"], record["stalled_count"]) == ("active", "0") and "reclaimed" not in record
    assert lua.waiting() == [] and lua.ids(lua.k.active) == ["a"]
    last = lua.events()[-1]
    assert (last["event"], last["prev"], last["retaken"]) == ("active", "waiting", "1")
