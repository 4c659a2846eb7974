"""retry.lua: active -> delayed (with a backoff) or waiting, after a failed attempt with attempts left."""

from __future__ import annotations

from pipeline.codes import Code
from tests.scripts.conftest import MAX_LEN, Lua


def _retry(lua: Lua, job_id: str, token: str, delay_ms: int):
    keys = lua.keys("retry", job_id)
    return lua("retry", keys, [job_id, token, delay_ms, "flaky", "Traceback ...", 1, MAX_LEN])


def test_without_backoff_the_job_waits_again_keeping_its_reason(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]
    lua.client.delete(lua.k.marker)

    assert _retry(lua, "a", token, 0) == Code.DONE

    record = lua.record("a")
    assert (record["state"], record["attempts_made"], record["failed_reason"]) == ("waiting", "1", "flaky")
    assert lua.waiting() == ["a"] and lua.client.llen(lua.k.marker) == 1
    last = lua.events()[-1]
    assert (last["event"], last["prev"], last["reason"]) == ("waiting", "active", "flaky")


def test_with_backoff_the_job_is_delayed_until_its_due_time(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]

    assert _retry(lua, "a", token, 60_000) == Code.DONE

    assert lua.record("a")["state"] == "delayed"
    last = lua.events()[-1]
    assert (last["event"], last["reason"]) == ("delayed", "flaky")
    assert int(last["delay"]) == lua.client.zscore(lua.k.delayed, "a")


def test_a_job_no_longer_held_or_with_a_cancel_requested_is_left_as_it_is(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]

    assert _retry(lua, "a", "99", 0) == Code.NOT_HELD
    lua.client.hset(lua.k.job("a"), "cancelled", "stop")
    assert _retry(lua, "a", token, 0) == Code.CANCEL_PENDING

    assert lua.record("a")["state"] == "active" and lua.waiting() == []
