"""fail.lua: active -> failed, after the last attempt, an unrecoverable error or a cancel."""

from __future__ import annotations

import json

from pipeline.codes import Code
from tests.scripts.conftest import MAX_LEN, Lua, now_ms


def _fail(lua: Lua, job_id: str, token: str, *, keep: int = -1, exhausted: bool = True, dedup_key: str = ""):
    k = lua.k
    keys = lua.keys("fail", job_id)
    args = [job_id, token, now_ms(), "boom", "Traceback ...", 2, keep]
    args += [
        k.job_prefix,
        k.logs_prefix,
        MAX_LEN,
        "task",
        k.metrics_prefix,
        "1" if exhausted else "0",
        dedup_key,
    ]
    return lua("fail", keys, args)


def test_a_held_job_fails_with_its_reason_and_stack_trace(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]

    assert _fail(lua, "a", token) == Code.DONE

    record = lua.record("a")
    assert (record["state"], record["failed_reason"], record["attempts_made"]) == ("failed", "boom", "1")
    assert json.loads(record["stacktrace"]) == ["Traceback ..."]
    assert lua.ids(lua.k.failed) == ["a"] and lua.ids(lua.k.active) == []
    events = [(e["event"], e.get("reason"), e.get("prev")) for e in lua.events()[-2:]]
    assert events == [("failed", "boom", "active"), ("retries-exhausted", None, None)]
    assert lua.client.hget(lua.k.metric_totals, "failed:task") == b"1"


def test_a_failure_with_attempts_left_says_no_retries_exhausted(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]

    _fail(lua, "a", token, exhausted=False)

    assert lua.events()[-1]["event"] == "failed"


def test_a_job_no_longer_held_is_not_held(lua: Lua) -> None:
    lua.add("a")
    lua.take()

    assert _fail(lua, "a", "7") == Code.NOT_HELD
    assert lua.record("a")["state"] == "active"


def test_keep_zero_deletes_the_job_and_its_logs_and_frees_its_deduplication_key(lua: Lua) -> None:
    lua.add("a", dedup="throttle:0:d1")
    token = lua.take()["a"]
    lua.client.rpush(lua.k.logs("a"), "line")

    assert _fail(lua, "a", token, keep=0, dedup_key=lua.k.dedup_prefix + "d1") == Code.DONE

    assert lua.record("a") == {} and not lua.client.exists(lua.k.logs("a"))
    assert not lua.client.exists(lua.k.dedup_prefix + "d1")
