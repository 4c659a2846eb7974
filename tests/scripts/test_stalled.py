"""stalled.lua: reclaim running jobs whose lock expired; past the stall limit they fail."""

from __future__ import annotations

from tests.scripts.conftest import MAX_LEN, Lua, now_ms


def _sweep(lua: Lua, max_stalled: int = 1, interval_ms: int = 5_000) -> list[str]:
    k = lua.k
    keys = lua.keys("stalled")
    reply = lua("stalled", keys, [now_ms(), k.job_prefix, max_stalled, MAX_LEN, interval_ms, 30_000])
    return [item.decode() for item in reply]


def _expire(lua: Lua, job_id: str) -> None:
    lua.client.zadd(lua.k.active, {job_id: 1})  # its lock lapsed long ago


def test_a_job_whose_lock_lapsed_waits_again_with_a_stall_counted(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]
    _expire(lua, "a")

    assert _sweep(lua) == ["a", "waiting"]

    record = lua.record("a")
    assert (record["state"], record["stalled_count"], record["reclaimed"]) == ("waiting", "1", token)
    assert lua.waiting() == ["a"]
    assert [e["event"] for e in lua.events()[-2:]] == ["stalled", "waiting"]


def test_past_the_stall_limit_the_job_fails(lua: Lua) -> None:
    lua.add("a")
    lua.take()
    lua.client.hset(lua.k.job("a"), "stalled_count", 1)
    _expire(lua, "a")

    assert _sweep(lua, max_stalled=1) == ["a", "failed"]

    assert lua.record("a")["failed_reason"] == "job stalled more than allowable limit"
    assert lua.ids(lua.k.failed) == ["a"]
    assert [e["event"] for e in lua.events()[-3:]] == ["stalled", "failed", "retries-exhausted"]


def test_one_process_per_interval_sweeps(lua: Lua) -> None:
    assert _sweep(lua) == []
    lua.add("a")
    lua.take()
    _expire(lua, "a")

    assert _sweep(lua, interval_ms=60_000) == []  # the guard holds: swept moments ago
    assert lua.record("a")["state"] == "active"


def test_a_lapsed_idle_consumers_inbox_goes_back_without_a_stall(lua: Lua) -> None:
    member = "30000|gone"
    lua.fetch(member=member, ttl_ms=5_000)
    lua.add("a")  # handed to its inbox
    lua.client.zadd(lua.k.handed, {member: 1})  # its registration lapsed

    assert _sweep(lua) == []

    assert lua.waiting() == ["a"] and "stalled_count" not in lua.record("a")
    assert lua.events()[-1]["event"] == "waiting"
