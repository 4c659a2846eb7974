"""complete.lua: active -> completed, and the next jobs taken in the same call."""

from __future__ import annotations

from pipeline.codes import Code
from tests.scripts.conftest import MAX_LEN, Lua, now_ms


def _complete(
    lua: Lua, job_id: str, token: str, *, keep: int = -1, take: int = 0, member: str = "", ttl: int = 0
):
    keys = lua.keys("complete", job_id)
    args = [job_id, token, now_ms(), '{"sum": 3}', keep, MAX_LEN, "task", "", take, 30_000, member, ttl]
    return lua("complete", keys, args)


def test_a_held_job_completes_with_its_result(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]

    assert _complete(lua, "a", token) == [Code.DONE, [], 0]

    record = lua.record("a")
    assert (record["state"], record["result"], record["attempts_made"]) == ("completed", '{"sum": 3}', "1")
    assert lua.ids(lua.k.completed) == ["a"] and lua.ids(lua.k.active) == []
    last = lua.events()[-1]
    assert (last["event"], last["result"], last["prev"]) == ("completed", '{"sum": 3}', "active")
    assert lua.client.sismember(lua.k.metric_names, "task")
    assert lua.client.hlen(lua.k.metric_ring("completed", "task")) == 1


def test_a_job_no_longer_held_is_not_held(lua: Lua) -> None:
    lua.add("a")
    lua.take()

    assert _complete(lua, "a", "999") == [Code.NOT_HELD, [], 0]
    assert lua.record("a")["state"] == "active"


def test_a_requested_cancel_wins_and_nothing_changes(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]
    lua.client.hset(lua.k.job("a"), "cancelled", "stop")

    assert _complete(lua, "a", token) == [Code.CANCEL_PENDING, [], 0]
    assert lua.record("a")["state"] == "active"


def test_keep_zero_removes_the_job_and_keep_n_trims_to_the_newest(lua: Lua) -> None:
    for job_id in ("a", "b", "c"):
        lua.add(job_id)
    tokens = lua.take()

    _complete(lua, "a", tokens["a"], keep=0)
    _complete(lua, "b", tokens["b"], keep=1)
    _complete(lua, "c", tokens["c"], keep=1)

    assert lua.record("a") == {} and lua.record("b") == {}
    assert lua.ids(lua.k.completed) == ["c"]


def test_it_takes_the_next_jobs_for_the_worker_in_the_same_call(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]
    lua.add("b")
    lua.add("c")

    code, taken, registered = _complete(lua, "a", token, take=1)

    assert (code, taken[0], taken[3], registered) == (Code.DONE, b"b", b"1", 0)
    assert lua.record("b")["state"] == "active" and lua.waiting() == ["c"]
    assert ("active", "b") in lua.event_names()


def test_with_nothing_left_to_take_the_worker_registers_idle(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]

    assert _complete(lua, "a", token, take=2, member="30000|c1", ttl=5_000) == [Code.DONE, [], 1]
    assert lua.ids(lua.k.idle) == ["30000|c1"]


def test_nothing_is_taken_from_a_paused_queue(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]
    lua.add("b")
    lua.client.hset(lua.k.meta, "paused", "1")

    assert _complete(lua, "a", token, take=1, member="30000|c1", ttl=5_000) == [Code.DONE, [], 0]
    assert lua.waiting() == ["b"]
