"""Driving one Lua script at a time through its documented KEYS and ARGV, on a real Redis.

``lua`` is a queue of its own (random namespace and queue name) whose keys are deleted
afterwards.  Its helpers run the scripts other tests need as a setting (``add`` creates
jobs, ``take`` makes them active, ``finish`` completes or fails one), each through the
KEYS and ARGV its header documents, so a test of one script reads as its header does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from pipeline.keys import QueueKeys
from pipeline.scripts import Scripts
from pipeline.store.script_keys import ScriptKeys
from tests.support import unique

MAX_LEN = 1000


def now_ms() -> int:
    return int(time.time() * 1000)


def message(job_id: str, **kwargs: Any) -> str:
    """An encoded Dramatiq message (JSON), as producers store it."""
    return json.dumps(
        {"message_id": job_id, "actor_name": "task", "args": [], "kwargs": kwargs, "options": {}}
    )


class Lua:
    """One queue's keys and its scripts, on the test's Redis."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.namespace = namespace
        self.k = QueueKeys.for_queue(namespace, unique("q"))
        self.scripts = Scripts(client)
        self._keys = ScriptKeys(self.k)

    def __call__(self, name: str, keys: list[str], args: list[Any]) -> Any:
        return self.scripts(name, keys, args)

    def keys(self, script: str, job_id: str = "") -> list[str]:
        """The KEYS of ``script`` its header lists (the store's table, which is checked against
        the headers), with ``job_id``'s keys where it takes a job."""
        return self._keys.for_job(script, job_id) if job_id else list(self._keys.fixed(script))

    def events(self) -> list[dict[str, str]]:
        """Every event of the queue's stream, oldest first, as field -> value."""
        return [
            {f.decode(): v.decode() for f, v in fields.items()}
            for _, fields in self.client.xrange(self.k.events)
        ]

    def event_names(self) -> list[tuple[str, str]]:
        return [(e["event"], e["job_id"]) for e in self.events()]

    def record(self, job_id: str) -> dict[str, str]:
        """A job's record as ``get_jobs`` reads it ({} when there is none)."""
        [flat] = self("get_jobs", [self.k.job(job_id)], [])
        it = iter(flat)
        return {f.decode(): v.decode() for f, v in zip(it, it, strict=True)}

    def ids(self, key: str) -> list[str]:
        """The members of a sorted set, lowest score first."""
        return [m.decode() for m in self.client.zrange(key, 0, -1)]

    def waiting(self) -> list[str]:
        """Waiting job ids in the order workers take them (prioritized first, then the list's tail)."""
        listed = [m.decode() for m in reversed(self.client.lrange(self.k.wait, 0, -1))]
        return self.ids(self.k.prioritized) + listed

    # -- settings made with other scripts ---------------------------------------------------------

    def add(
        self,
        job_id: str,
        *,
        delay: int = 0,
        priority: int = 0,
        lifo: bool = False,
        dedup: str = "",
        **kwargs: Any,
    ) -> list[Any]:
        """add.lua for one job; ``dedup`` is ``"<mode>:<ttl ms>:<id>"``."""
        k = self.k
        keys = [*self.keys("add"), k.job(job_id)]
        spec = ""
        if dedup:
            mode, ttl, dedup_id = dedup.split(":", 2)
            spec = f"{mode}:{ttl}"
            keys.append(k.dedup_prefix + dedup_id)
        group = [job_id, message(job_id, **kwargs), delay, priority, "1" if lifo else "0", "task", spec]
        return list(self("add", keys, [now_ms(), MAX_LEN, *group]))

    def fetch(self, count: int = 10, lock_ms: int = 30_000, member: str = "", ttl_ms: int = 0) -> list[Any]:
        """fetch.lua: its whole reply."""
        k = self.k
        args = [now_ms(), count, lock_ms, k.job_prefix, MAX_LEN, k.limiter_group_prefix, member, ttl_ms]
        return list(self("fetch", self.keys("fetch"), args))

    def take(self, count: int = 10) -> dict[str, str]:
        """Fetch up to ``count`` jobs: job id -> lock token."""
        taken = self.fetch(count)[0]
        return {taken[i].decode(): taken[i + 3].decode() for i in range(0, len(taken), 4)}

    def complete(self, job_id: str, token: str, keep: int = -1) -> Any:
        """complete.lua, taking no next job."""
        args = [job_id, token, now_ms(), '"ok"', keep, MAX_LEN, "task", "", 0, 30_000, "", 0]
        return self("complete", self.keys("complete", job_id), args)

    def fail(self, job_id: str, token: str, reason: str = "boom", keep: int = -1) -> Any:
        """fail.lua, as after the last attempt."""
        k = self.k
        args = [job_id, token, now_ms(), reason, "trace", 3, keep]
        args += [k.job_prefix, k.logs_prefix, MAX_LEN, "task", k.metrics_prefix, "1", ""]
        return self("fail", self.keys("fail", job_id), args)


@pytest.fixture
def lua(client: redis.Redis, namespace: str) -> Iterator[Lua]:
    yield Lua(client, namespace)
    for key in client.scan_iter(match=f"{namespace}:*", count=1000):  # its own namespace only
        client.delete(key)
