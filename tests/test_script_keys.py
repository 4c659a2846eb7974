"""The store's table of script KEYS says what each script's header documents, in its order."""

from __future__ import annotations

import re

import pytest

from pipeline.keys import QueueKeys
from pipeline.scripts import source
from pipeline.store.script_keys import PER_JOB, SCRIPT_KEYS, STATE, ScriptKeys

#: How the headers name each key (any parenthesised note after it aside).
HEADER_NAMES = {
    "wait list": "wait",
    "prioritized zset": "prioritized",
    "delayed zset": "delayed",
    "active zset": "active",
    "completed zset": "completed",
    "failed zset": "failed",
    "completed or failed zset": STATE,
    "meta hash": "meta",
    "marker list": "marker",
    "idle consumers zset": "idle",
    "handed consumers zset": "handed",
    "events stream": "events",
    "priority seq": "seq",
    "limited zset": "limited",
    "limiter window zset": "limiter",
    "holders zset": "holders",
    "stall-grace hash": "stall_grace",
    "sweep guard key": "stall_guard",
    "job key": "job",
    "job logs": "logs",
}

_KEY = re.compile(r"KEYS\[(\d+)\]\s+(.+?)(?=\s{2,}KEYS\[|$)")


def documented_keys(script: str) -> list[str]:
    """The single keys a script's header lists (``KEYS[n] <what>``), as table names, in order."""
    header = source(script).split("]]", 1)[0]
    found: dict[int, str] = {}
    for line in header.splitlines():
        for index, what in _KEY.findall(line.strip()):
            what = re.sub(r"\s*\(.*$", "", what).strip()
            assert what in HEADER_NAMES, f"{script}.lua: KEYS[{index}] {what!r} names no known key"
            found[int(index)] = HEADER_NAMES[what]
    assert sorted(found) == list(range(1, len(found) + 1)), f"{script}.lua: KEYS numbered with gaps"
    return [found[i] for i in sorted(found)]


@pytest.mark.parametrize("script", sorted(SCRIPT_KEYS))
def test_each_script_takes_the_keys_its_header_lists_in_that_order(script):
    assert list(SCRIPT_KEYS[script]) == documented_keys(script)


@pytest.mark.parametrize("script", sorted(SCRIPT_KEYS))
def test_every_name_in_the_table_is_a_queue_key_or_one_a_call_supplies(script):
    attributes = set(QueueKeys.__dataclass_fields__)
    for name in SCRIPT_KEYS[script]:
        assert name in attributes or name in PER_JOB or name == STATE, name


def test_a_call_about_one_job_gets_that_jobs_keys_and_the_queues():
    keys = QueueKeys.for_queue("ns", "q")
    resolved = ScriptKeys(keys)
    assert resolved.for_job("fail", "42") == [
        keys.job("42"),
        keys.active,
        keys.failed,
        keys.logs("42"),
        keys.events,
    ]
    assert resolved.for_state("clean", "failed") == [keys.failed, keys.events]
    assert resolved.fixed("pause") == [keys.meta, keys.marker, keys.events]
