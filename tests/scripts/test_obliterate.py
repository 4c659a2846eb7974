"""obliterate.lua: delete a queue's jobs in every state, a batch per call, refusing while jobs run."""

from __future__ import annotations

from pipeline.codes import Code
from tests.scripts.conftest import Lua


def _obliterate(lua: Lua, limit: int, force: bool) -> int:
    k = lua.k
    keys = lua.keys("obliterate")
    return int(lua("obliterate", keys, [limit, k.job_prefix, k.logs_prefix, "1" if force else "0"]))


def test_it_refuses_while_jobs_run_unless_forced(lua: Lua) -> None:
    lua.add("a")
    lua.take()

    assert _obliterate(lua, 10, force=False) == Code.ACTIVE
    assert lua.record("a")["state"] == "active"
    assert _obliterate(lua, 10, force=True) == 1
    assert lua.record("a") == {} and lua.ids(lua.k.active) == []


def test_every_state_goes_a_batch_per_call(lua: Lua) -> None:
    for job_id in ("done", "broken"):
        lua.add(job_id)
    tokens = lua.take()
    lua.complete("done", tokens["done"])
    lua.fail("broken", tokens["broken"])
    lua.add("plain")
    lua.add("urgent", priority=1)
    lua.add("later", delay=60_000)
    lua.client.rpush(lua.k.logs("plain"), "line")

    assert _obliterate(lua, 3, force=False) == 3
    assert _obliterate(lua, 3, force=False) == 2
    assert _obliterate(lua, 3, force=False) == 0

    assert all(lua.record(j) == {} for j in ("done", "broken", "plain", "urgent", "later"))
    assert not lua.client.exists(lua.k.logs("plain"), lua.k.prioritized_age)
