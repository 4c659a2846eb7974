"""cancel.lua: a pending job fails at once; a running one gets a cancel request."""

from __future__ import annotations

import pytest

from pipeline.codes import Code
from tests.scripts.conftest import MAX_LEN, Lua, now_ms


def _cancel(lua: Lua, job_id: str):
    k = lua.k
    keys = lua.keys("cancel", job_id)
    return lua("cancel", keys, [job_id, "not wanted", now_ms(), MAX_LEN, k.dedup_prefix])


@pytest.mark.parametrize(("delay", "state"), [(0, "waiting"), (60_000, "delayed")])
def test_a_pending_job_fails_at_once_and_never_starts(lua: Lua, delay: int, state: str) -> None:
    lua.add("a", delay=delay)

    assert _cancel(lua, "a") == Code.DONE

    record = lua.record("a")
    assert (record["state"], record["failed_reason"], record["cancelled"]) == (
        "failed",
        "not wanted",
        "not wanted",
    )
    assert lua.ids(lua.k.failed) == ["a"] and lua.waiting() == [] and lua.ids(lua.k.delayed) == []
    last = lua.events()[-1]
    assert (last["event"], last["reason"], last["prev"]) == ("failed", "not wanted", state)
    assert lua.fetch()[0] == []


def test_a_running_job_is_asked_to_stop(lua: Lua) -> None:
    lua.add("a")
    lua.take()

    assert _cancel(lua, "a") == Code.CANCEL_REQUESTED
    record = lua.record("a")
    assert (record["state"], record["cancelled"]) == ("active", "not wanted")


def test_a_finished_or_missing_job_is_refused(lua: Lua) -> None:
    lua.add("a")
    lua.complete("a", lua.take()["a"])

    assert _cancel(lua, "a") == Code.WRONG_STATE
    assert _cancel(lua, "nobody") == Code.NO_SUCH_JOB
