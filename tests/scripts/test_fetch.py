"""fetch.lua: promote due jobs, take waiting ones within the rate limit, register idle or leave."""

from __future__ import annotations

from pipeline.codes import Code
from tests.scripts.conftest import Lua, message


def test_it_takes_prioritized_jobs_first_each_with_a_new_lock(lua: Lua) -> None:
    lua.add("plain")
    lua.add("urgent", priority=1)

    taken, wake_in, limited, registered = lua.fetch(count=5)

    assert taken == [
        b"urgent",
        message("urgent").encode(),
        b"0",
        b"1",
        b"plain",
        message("plain").encode(),
        b"0",
        b"1",
    ]
    assert (wake_in, limited, registered) == (b"", 0, 0)
    assert set(lua.ids(lua.k.active)) == {"urgent", "plain"}
    assert lua.record("plain")["state"] == "active"
    taken_events = [(e["event"], e["job_id"], e.get("prev")) for e in lua.events()[2:]]
    assert taken_events == [
        ("active", "urgent", "waiting"),
        ("active", "plain", "waiting"),
        ("drained", "", None),
    ]


def test_it_takes_no_more_than_asked_and_says_drained_only_when_none_is_left(lua: Lua) -> None:
    lua.add("a")
    lua.add("b")

    assert len(lua.fetch(count=1)[0]) == 4

    assert lua.waiting() == ["b"]
    assert "drained" not in [e["event"] for e in lua.events()]


def test_a_due_delayed_job_is_promoted_then_taken(lua: Lua) -> None:
    lua.add("d", delay=60_000)
    lua.client.zadd(lua.k.delayed, {"d": 0})  # its due time has passed

    taken = lua.fetch()[0]

    assert taken[0] == b"d"
    events = [(e["event"], e.get("prev")) for e in lua.events()]
    assert events[1:3] == [("waiting", "delayed"), ("active", "waiting")]


def test_with_nothing_to_take_it_says_when_the_next_delayed_job_is_due(lua: Lua) -> None:
    lua.add("d", delay=60_000)

    taken, wake_in, _, _ = lua.fetch()

    assert taken == []
    assert 0 < float(wake_in) <= 60_000


def test_an_empty_fetch_with_a_lifetime_registers_the_consumer_idle(lua: Lua) -> None:
    member = "30000|c1"

    assert lua.fetch(member=member, ttl_ms=5_000)[3] == 1
    assert lua.ids(lua.k.idle) == [member]

    lua.add("a")  # handed to it directly
    taken, _, _, registered = lua.fetch(member=member, ttl_ms=5_000)

    assert (taken[0], registered) == (b"a", 0)
    assert lua.ids(lua.k.idle) == [] and lua.ids(lua.k.handed) == []


def test_a_paused_queue_gives_nothing_and_keeps_no_consumer_idle(lua: Lua) -> None:
    lua.add("a")
    lua.client.hset(lua.k.meta, "paused", "1")

    taken, _, _, registered = lua.fetch(member="30000|c1", ttl_ms=5_000)

    assert (taken, registered) == ([], 0)
    assert lua.waiting() == ["a"]


def test_the_queue_wide_rate_limit_caps_starts_and_says_it_applies(lua: Lua) -> None:
    lua.client.hset(lua.k.meta, mapping={"limiter_max": 1, "limiter_duration": 60_000})
    lua.add("a")
    lua.add("b")

    taken, wake_in, limited, _ = lua.fetch(count=5)

    assert (taken[0], len(taken), limited) == (b"a", 4, 1)
    assert wake_in == b"" or float(wake_in) > 0
    [active] = [e for e in lua.events() if e["event"] == "active"]
    assert "at" in active
    assert lua.waiting() == ["b"]


def test_a_job_whose_group_is_full_is_parked_without_blocking_other_groups(lua: Lua) -> None:
    lua.client.hset(
        lua.k.meta, mapping={"limiter_max": 1, "limiter_duration": 60_000, "limiter_group": "tenant"}
    )
    lua.add("t1-a", tenant="t1")
    lua.add("t1-b", tenant="t1")
    lua.add("t2-a", tenant="t2")

    taken, wake_in, _, _ = lua.fetch(count=5)

    assert [taken[i] for i in range(0, len(taken), 4)] == [b"t1-a", b"t2-a"]
    assert lua.ids(lua.k.limited) == ["t1-b"]
    assert 0 < float(wake_in) <= 60_000


def test_an_unreadable_record_fails_where_it_stands(lua: Lua) -> None:
    lua.add("bad")
    lua.client.set(lua.k.job("bad"), "42 is no pending record")  # damaged in place
    lua.add("good")

    taken = lua.fetch()[0]

    assert taken[0] == b"good"
    assert lua.record("bad")["state"] == "failed"
    [failed] = [e for e in lua.events() if e["event"] == "failed"]
    assert failed["job_id"] == "bad" and failed["reason"].startswith("unreadable job record")
    assert lua.add("bad")[0] == Code.UNCHANGED  # the record stays, failed
