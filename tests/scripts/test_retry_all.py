"""retry_all.lua: failed -> waiting, oldest failure first, a batch per call (Bull's retryJobs())."""

from __future__ import annotations

from tests.scripts.conftest import MAX_LEN, Lua


def _retry_all(lua: Lua, limit: int) -> int:
    k = lua.k
    keys = lua.keys("retry_all")
    return int(lua("retry_all", keys, [limit, k.job_prefix, MAX_LEN]))


def test_failed_jobs_wait_again_oldest_failure_first(lua: Lua) -> None:
    lua.add("a")
    lua.add("b")
    tokens = lua.take()
    lua.fail("a", tokens["a"])
    lua.fail("b", tokens["b"])

    assert _retry_all(lua, 1) == 1
    assert lua.waiting() == ["a"] and lua.ids(lua.k.failed) == ["b"]
    assert _retry_all(lua, 5) == 1
    assert _retry_all(lua, 5) == 0

    record = lua.record("b")
    assert (record["state"], record["attempts_made"]) == ("waiting", "1") and "failed_reason" not in record
    assert [(e["event"], e["prev"]) for e in lua.events()[-2:]] == [("waiting", "failed")] * 2


def test_an_id_whose_record_is_gone_is_only_unlisted(lua: Lua) -> None:
    lua.client.zadd(lua.k.failed, {"gone": 1})

    assert _retry_all(lua, 5) == 1
    assert lua.waiting() == [] and lua.events() == []
