"""retry_failed.lua: failed -> waiting (Bull's job.retry()), attempts kept."""

from __future__ import annotations

from pipeline.codes import Code
from tests.scripts.conftest import MAX_LEN, Lua


def _retry_failed(lua: Lua, job_id: str):
    keys = lua.keys("retry_failed", job_id)
    return lua("retry_failed", keys, [job_id, MAX_LEN])


def test_a_failed_job_waits_again_with_its_failure_cleared(lua: Lua) -> None:
    lua.add("a", priority=2)
    lua.fail("a", lua.take()["a"])

    assert _retry_failed(lua, "a") == Code.DONE

    record = lua.record("a")
    assert (record["state"], record["attempts_made"]) == ("waiting", "1")
    assert "failed_reason" not in record and "stacktrace" not in record
    assert lua.waiting() == ["a"] and lua.ids(lua.k.failed) == []
    last = lua.events()[-1]
    assert (last["event"], last["prev"]) == ("waiting", "failed")


def test_a_job_that_did_not_fail_or_does_not_exist_is_refused(lua: Lua) -> None:
    lua.add("pending")
    lua.add("running")
    lua.take(1)

    assert _retry_failed(lua, "pending") == Code.WRONG_STATE
    assert _retry_failed(lua, "running") == Code.WRONG_STATE
    assert _retry_failed(lua, "nobody") == Code.NO_SUCH_JOB
