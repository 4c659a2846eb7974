"""A worker's per-job scripts go over its thread's own connection, and still through any trouble on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from pipeline.job import JobState
from pipeline.queue import Queue
from pipeline.settings import Settings
from tests.support import RedisServer, unique


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.close()


@pytest.fixture
def queue(settings: Settings, private_redis: RedisServer) -> Queue:
    return Queue(unique("q"), settings=settings.replace(redis_url=private_redis.url, redis_explicit=True))


def test_a_fetch_after_redis_forgot_its_scripts_loads_them_again_and_takes_the_job(queue: Queue) -> None:
    job = queue.add("x", {"n": 1})
    queue.client.script_flush()

    taken, *_ = queue.store.fetch(1, 30_000)

    assert [t.job_id for t in taken] == [job.id]
    again = queue.get_job(job.id)
    assert again is not None and again.state is JobState.ACTIVE


def test_a_completion_after_redis_dropped_every_connection_is_recorded_and_the_next_one_too(
    queue: Queue, private_redis: RedisServer
) -> None:
    # Given two jobs taken over the thread's own connection
    first, second = queue.add("x", {"n": 1}), queue.add("x", {"n": 2})
    taken, *_ = queue.store.fetch(2, 30_000)
    assert {t.job_id for t in taken} == {first.id, second.id}

    # When Redis drops every client connection, the one the scripts use included
    killer = redis.Redis.from_url(private_redis.url)
    killer.client_kill_filter(_type="normal", skipme=True)

    # Then each completion still goes through (the dropped connection is replaced)
    for fetched in taken:
        code, _, _ = queue.store.complete(fetched.job_id, fetched.token, "null", -1, "x")
        assert code == 1
    states = {j: (job := queue.get_job(j)) and job.state for j in (first.id, second.id)}
    assert states == {first.id: JobState.COMPLETED, second.id: JobState.COMPLETED}
    killer.close()
