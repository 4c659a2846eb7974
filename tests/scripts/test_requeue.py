"""requeue.lua: jobs reserved but never started go back to the front of waiting, uncounted."""

from __future__ import annotations

from tests.scripts.conftest import MAX_LEN, Lua


def _requeue(lua: Lua, member: str, *pairs: str) -> int:
    k = lua.k
    keys = lua.keys("requeue")
    return int(lua("requeue", keys, [k.job_prefix, MAX_LEN, member, *pairs]))


def test_reserved_jobs_go_back_first_in_line_with_their_attempts_kept(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]
    lua.add("b")
    lua.client.delete(lua.k.marker)

    assert _requeue(lua, "", "a", token) == 1

    assert lua.waiting() == ["a", "b"]
    record = lua.record("a")
    assert (record["state"], record["attempts_made"]) == ("waiting", "0") and "processed_on" not in record
    last = lua.events()[-1]
    assert (last["event"], last["job_id"], last["prev"]) == ("waiting", "a", "active")
    assert lua.client.llen(lua.k.marker) == 1


def test_only_the_holder_of_the_lock_token_puts_a_job_back(lua: Lua) -> None:
    lua.add("a")
    lua.take()

    assert _requeue(lua, "", "a", "41") == 0
    assert lua.record("a")["state"] == "active"


def test_a_consumer_leaving_idle_gives_back_the_jobs_handed_to_it(lua: Lua) -> None:
    member = "30000|c1"
    lua.fetch(member=member, ttl_ms=5_000)
    lua.add("a")  # handed to its inbox

    assert _requeue(lua, member) == 1

    assert lua.waiting() == ["a"]
    assert lua.ids(lua.k.idle) == [] and lua.ids(lua.k.handed) == []
    assert not lua.client.exists(lua.k.inbox(member))
