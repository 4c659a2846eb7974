"""update_progress.lua: store a running job's progress."""

from __future__ import annotations

from pipeline.codes import Code
from tests.scripts.conftest import MAX_LEN, Lua


def _progress(lua: Lua, job_id: str, token: str, value: str):
    return lua("update_progress", [lua.k.job(job_id), lua.k.events], [job_id, token, value, MAX_LEN])


def test_the_holder_stores_progress_and_it_is_announced(lua: Lua) -> None:
    lua.add("a")
    token = lua.take()["a"]

    assert _progress(lua, "a", token, '{"done": 3}') == Code.DONE

    assert lua.record("a")["progress"] == '{"done": 3}'
    last = lua.events()[-1]
    assert (last["event"], last["job_id"], last["data"]) == ("progress", "a", '{"done": 3}')


def test_a_job_no_longer_held_keeps_its_progress(lua: Lua) -> None:
    lua.add("a")
    lua.take()

    assert _progress(lua, "a", "5", "50") == Code.NOT_HELD
    assert "progress" not in lua.record("a")
