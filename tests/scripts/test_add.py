"""add.lua: create jobs waiting, prioritized or delayed; deduplicate; hand one to an idle worker."""

from __future__ import annotations

import pytest
import redis

from pipeline.codes import Code
from tests.scripts.conftest import MAX_LEN, Lua, message, now_ms


def test_a_new_job_waits_and_says_so(lua: Lua) -> None:
    assert lua.add("a") == [Code.DONE, b"a"]

    assert lua.record("a")["state"] == "waiting"
    assert lua.waiting() == ["a"]
    [event] = lua.events()
    assert (event["event"], event["job_id"], event["name"]) == ("waiting", "a", "task")


def test_an_id_that_exists_is_left_untouched(lua: Lua) -> None:
    lua.add("a", n=1)

    assert lua.add("a", n=2) == [Code.UNCHANGED, b"a"]

    assert lua.record("a")["msg"] == message("a", n=1)
    assert lua.waiting() == ["a"]
    assert len(lua.events()) == 1


def test_a_delayed_job_is_due_after_its_delay_on_redis_clock(lua: Lua) -> None:
    seconds, micros = lua.client.time()

    assert lua.add("d", delay=60_000) == [Code.DONE, b"d"]

    assert lua.record("d")["state"] == "delayed"
    due = lua.client.zscore(lua.k.delayed, "d")
    [event] = lua.events()
    assert event["event"] == "delayed" and int(event["delay"]) == due
    assert due is not None and due >= seconds * 1000 + micros // 1000 + 60_000


def test_prioritized_jobs_come_out_lowest_priority_number_first(lua: Lua) -> None:
    lua.add("low", priority=5)
    lua.add("high", priority=1)
    lua.add("plain")

    assert lua.waiting() == ["high", "low", "plain"]
    assert lua.record("low")["priority"] == "5"


def test_a_taken_deduplication_id_ignores_the_add_and_names_the_owner(lua: Lua) -> None:
    lua.add("owner", dedup="throttle:0:order-7")

    assert lua.add("late", dedup="throttle:0:order-7") == [Code.DEDUPLICATED, b"owner"]

    assert lua.record("late") == {}
    last = lua.events()[-1]
    assert (last["event"], last["job_id"], last["by"]) == ("deduplicated", "owner", "late")


def test_debounce_replaces_a_delayed_owners_data_and_restarts_its_delay(lua: Lua) -> None:
    lua.add("owner", delay=1_000, dedup="debounce:0:k", n=1)

    assert lua.add("next", delay=60_000, dedup="debounce:0:k", n=2) == [Code.DEBOUNCED, b"owner"]

    assert lua.record("owner")["msg"] == message("next", n=2)
    last = lua.events()[-1]
    assert (last["event"], last["job_id"], last["by"]) == ("debounced", "owner", "next")
    assert int(last["delay"]) == lua.client.zscore(lua.k.delayed, "owner")


def test_a_job_for_an_empty_queue_goes_straight_to_an_idle_worker(lua: Lua) -> None:
    # Given a worker registered idle by an empty fetch
    member = "30000|worker-1"
    assert lua.fetch(member=member, ttl_ms=10_000)[3] == 1

    lua.add("a")

    assert lua.record("a")["state"] == "active"
    assert lua.waiting() == []
    assert lua.client.lrange(lua.k.inbox(member), 0, -1)[0].endswith(message("a").encode())
    assert [e["event"] for e in lua.events()] == ["waiting", "active"]


def test_a_malformed_group_fails_the_whole_call_and_writes_nothing(lua: Lua) -> None:
    k = lua.k
    keys = lua.keys("add")
    good = ["a", message("a"), 0, 0, "0", "task", ""]
    bad = ["b", message("b"), "soon", 0, "0", "task", ""]

    with pytest.raises(redis.ResponseError, match="nothing was written"):
        lua("add", [*keys, k.job("a"), k.job("b")], [now_ms(), MAX_LEN, *good, *bad])

    assert lua.record("a") == {} and lua.events() == []
