"""A user's own actor module, run as ``dramatiq tests.apps.basic`` by the tests.

Queue names come from the environment so every test gets its own.
"""

from __future__ import annotations

import os
import time
from typing import Any

import redis

from pipeline import actor, current_job

QUEUE = os.environ.get("TEST_QUEUE", "basic")
_redis = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))


@actor(queue_name=QUEUE, job_name="echo")
def echo(**data: Any) -> dict[str, Any]:
    return data


@actor(queue_name=QUEUE, job_name="count-run")
def count_run(key: str) -> int:
    """Counts its executions in Redis, so tests can see 'exactly once'."""
    return int(_redis.incr(key))


@actor(queue_name=QUEUE, job_name="flaky")
def flaky(key: str, fail_times: int) -> str:
    """Fails its first `fail_times` runs, recording when each run started."""
    _redis.rpush(key + ":starts", repr(time.time()))
    runs = int(_redis.incr(key))
    if runs <= fail_times:
        raise RuntimeError(f"flaky failure {runs}")
    return f"ok after {runs}"


def _deep(n: int) -> None:
    if n == 0:
        raise ValueError("boom: the handler gave up")
    _deep(n - 1)


@actor(queue_name=QUEUE, job_name="always-fails")
def always_fails() -> None:
    _deep(30)


@actor(queue_name=QUEUE, job_name="slow")
def slow(seconds: float, key: str = "") -> str:
    if key:
        _redis.rpush(key, current_job().id)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.01)
    return "slept"


@actor(queue_name=QUEUE, catch_all=True)
def anything(**data: Any) -> str:
    return f"catch-all got {current_job().name}"


@actor(queue_name=QUEUE, job_name="progress")
def progress(steps: list[int]) -> str:
    job = current_job()
    for step in steps:
        job.update_progress(step)
    return "done"


@actor(queue_name=QUEUE, job_name="tagged-slow")
def tagged_slow(seconds: float, key: str) -> str:
    """Records each execution, then returns the tag of the worker that ran it."""
    _redis.rpush(key, os.environ.get("TEST_WORKER_TAG", "?"))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.01)
    return os.environ.get("TEST_WORKER_TAG", "?")


@actor(queue_name=QUEUE, job_name="cooperative")
def cooperative(key: str) -> str:
    _redis.rpush(key, "started")
    job = current_job()
    deadline = time.monotonic() + 30
    while not job.is_cancelled() and time.monotonic() < deadline:
        time.sleep(0.05)
    return "stopped early"


@actor(queue_name=QUEUE, job_name="stubborn")
def stubborn(key: str) -> str:
    _redis.rpush(key, "started")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.01)
    return "never cancelled"


@actor(queue_name=QUEUE, job_name="record-start")
def record_start(key: str, tag: str = "") -> str:
    """Records (in Redis) the order in which jobs start."""
    _redis.rpush(key, tag or current_job().id)
    return tag
