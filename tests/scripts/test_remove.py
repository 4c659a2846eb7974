"""remove.lua: delete a job that is not running, whatever its state."""

from __future__ import annotations

import pytest

from pipeline.codes import Code
from tests.scripts.conftest import MAX_LEN, Lua


def _remove(lua: Lua, job_id: str):
    k = lua.k
    keys = lua.keys("remove", job_id)
    return lua("remove", keys, [job_id, MAX_LEN, k.dedup_prefix])


@pytest.mark.parametrize(
    ("delay", "priority", "state"), [(0, 0, "waiting"), (0, 3, "waiting"), (60_000, 0, "delayed")]
)
def test_a_pending_job_is_removed_with_its_logs_and_deduplication_key(
    lua: Lua, delay: int, priority: int, state: str
) -> None:
    lua.add("a", delay=delay, priority=priority)
    lua.client.rpush(lua.k.logs("a"), "line")

    assert _remove(lua, "a") == Code.DONE

    assert lua.record("a") == {} and not lua.client.exists(lua.k.logs("a"))
    assert lua.waiting() == [] and lua.ids(lua.k.delayed) == []
    last = lua.events()[-1]
    assert (last["event"], last["job_id"], last["prev"]) == ("removed", "a", state)


def test_a_finished_job_is_removed_from_its_set(lua: Lua) -> None:
    lua.add("a")
    lua.complete("a", lua.take()["a"])

    assert _remove(lua, "a") == Code.DONE
    assert lua.ids(lua.k.completed) == []


def test_a_running_job_and_a_missing_one_are_refused(lua: Lua) -> None:
    lua.add("a")
    lua.take()

    assert _remove(lua, "a") == Code.ACTIVE
    assert _remove(lua, "nobody") == Code.NO_SUCH_JOB
    assert lua.record("a")["state"] == "active"
