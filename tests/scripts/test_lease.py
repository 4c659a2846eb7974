"""lease.lua: one process at a time holds a lease (the alert evaluator's leadership)."""

from __future__ import annotations

from pipeline.codes import Code
from pipeline.keys import AlertKeys
from tests.scripts.conftest import Lua


def test_one_holder_at_a_time_renews_and_gives_up_its_lease(lua: Lua) -> None:
    key = AlertKeys.for_namespace(lua.namespace).leader

    assert lua("lease", [key], ["p1", 60_000]) == Code.DONE
    assert lua("lease", [key], ["p2", 60_000]) == Code.UNCHANGED
    assert lua("lease", [key], ["p1", 60_000]) == Code.DONE  # renewed
    assert lua.client.pttl(key) > 0

    assert lua("lease", [key], ["p2", 0]) == Code.UNCHANGED  # not its to give up
    assert lua.client.get(key) == b"p1"
    assert lua("lease", [key], ["p1", 0]) == Code.UNCHANGED
    assert lua.client.get(key) is None
    assert lua("lease", [key], ["p2", 60_000]) == Code.DONE
