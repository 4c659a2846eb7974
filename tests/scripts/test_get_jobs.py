"""get_jobs.lua: read job records whatever their encoding, unreadable ones included."""

from __future__ import annotations

from tests.scripts.conftest import Lua, message


def _get(lua: Lua, *job_ids: str) -> list[dict[str, str]]:
    reply = lua("get_jobs", [lua.k.job(j) for j in job_ids], [])
    out = []
    for flat in reply:
        it = iter(flat)
        out.append({f.decode(): v.decode() for f, v in zip(it, it, strict=True)})
    return out


def test_pending_taken_and_missing_jobs_read_alike(lua: Lua) -> None:
    lua.add("delayed", delay=60_000, priority=3)
    lua.add("taken")
    lua.take()

    delayed, taken, missing = _get(lua, "delayed", "taken", "missing")

    assert delayed == {"msg": message("delayed"), "state": "delayed", "priority": "3"}
    assert (taken["state"], taken["msg"], taken["token"]) == ("active", message("taken"), "1")
    assert missing == {}


def test_unreadable_records_are_returned_saying_why(lua: Lua) -> None:
    lua.client.set(lua.k.job("garbled"), "42 is no pending record")
    lua.client.rpush(lua.k.job("alien"), "x")

    garbled, alien = _get(lua, "garbled", "alien")

    assert (garbled["msg"], garbled["state"]) == ("42 is no pending record", "waiting")
    assert garbled["unreadable"] == "unreadable job record: not in the pending job format"
    assert (alien["state"], alien["unreadable"]) == (
        "failed",
        "unreadable job record: a Redis list, not a job",
    )
    assert alien["failed_reason"] == alien["unreadable"]
