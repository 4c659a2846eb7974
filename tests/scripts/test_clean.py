"""clean.lua: delete finished jobs of one state that finished before a cutoff."""

from __future__ import annotations

from pipeline.store.script_keys import ScriptKeys
from tests.scripts.conftest import MAX_LEN, Lua


def _clean(lua: Lua, cutoff: float, limit: int, state: str) -> list[str]:
    k = lua.k
    keys = ScriptKeys(k).for_state("clean", state)  # the set of that state, then the events stream
    reply = lua("clean", keys, [cutoff, limit, k.job_prefix, k.logs_prefix, MAX_LEN, state])
    return [item.decode() for item in reply]


def test_jobs_finished_before_the_cutoff_go_with_their_logs_oldest_first(lua: Lua) -> None:
    for job_id in ("a", "b", "c"):
        lua.add(job_id)
    tokens = lua.take()
    for job_id in ("a", "b", "c"):
        lua.complete(job_id, tokens[job_id])
        lua.client.rpush(lua.k.logs(job_id), "line")
    cutoff = lua.client.zscore(lua.k.completed, "b")
    assert cutoff is not None

    assert _clean(lua, cutoff, 10, "completed") == ["a", "b"]

    assert lua.ids(lua.k.completed) == ["c"]
    assert lua.record("a") == {} and not lua.client.exists(lua.k.logs("a"))
    last = lua.events()[-1]
    assert (last["event"], last["count"], last["state"]) == ("cleaned", "2", "completed")


def test_it_deletes_no_more_than_the_limit_and_says_nothing_when_none_went(lua: Lua) -> None:
    lua.add("a")
    lua.add("b")
    tokens = lua.take()
    lua.fail("a", tokens["a"])
    lua.fail("b", tokens["b"])

    assert _clean(lua, float("inf"), 1, "failed") == ["a"]
    assert _clean(lua, 0, 10, "failed") == []
    assert [e["event"] for e in lua.events()].count("cleaned") == 1
