"""promote_all.lua: delayed -> waiting, soonest due first, a batch per call (Bull's promoteJobs())."""

from __future__ import annotations

from tests.scripts.conftest import MAX_LEN, Lua


def _promote_all(lua: Lua, limit: int) -> int:
    k = lua.k
    keys = lua.keys("promote_all")
    return int(lua("promote_all", keys, [limit, k.job_prefix, MAX_LEN]))


def test_delayed_jobs_wait_soonest_first_a_batch_per_call(lua: Lua) -> None:
    lua.add("late", delay=90_000)
    lua.add("soon", delay=30_000, priority=2)
    lua.add("plain")
    lua.client.delete(lua.k.marker)

    assert _promote_all(lua, 1) == 1
    assert lua.waiting() == ["soon", "plain"]
    assert _promote_all(lua, 5) == 1
    assert _promote_all(lua, 5) == 0

    assert lua.record("late")["state"] == "waiting" and lua.ids(lua.k.delayed) == []
    assert [(e["event"], e["job_id"], e["prev"]) for e in lua.events()[-2:]] == [
        ("waiting", "soon", "delayed"),
        ("waiting", "late", "delayed"),
    ]
    assert lua.client.llen(lua.k.marker) == 2
