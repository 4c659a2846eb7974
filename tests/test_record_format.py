"""A waiting job's record leaves out what its key says; records in the full form still read and run."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import dramatiq
import pytest
import redis

from pipeline import actor, current_job
from pipeline.broker import PipelineBroker
from pipeline.job import JobState
from pipeline.settings import Settings
from tests.support import unique, wait_for


@pytest.fixture
def cleanup(settings: Settings, client: redis.Redis) -> Iterator[None]:
    yield
    for key in client.scan_iter(match=f"{settings.namespace}:*", count=1000):
        client.delete(key)


def full_message(queue_name: str, job_id: str, **fields: Any) -> dict[str, Any]:
    """A message in the form every record had before the compact one."""
    return {
        "queue_name": queue_name,
        "actor_name": "record",
        "args": [],
        "kwargs": {"n": 1},
        "options": {},
        "message_id": job_id,
        "message_timestamp": 1_700_000_000_000,
        **fields,
    }


def test_a_waiting_jobs_record_leaves_out_its_queue_id_and_empty_args_and_options(
    broker: PipelineBroker, client: redis.Redis, cleanup: None
) -> None:
    queue = broker.queue(unique("q"))
    job = queue.add("record", {"n": 1})
    raw = client.get(queue.store.keys.job(job.id))
    assert raw is not None and raw[:1] == b"w"
    stored = json.loads(raw[1:])
    assert stored == {"actor_name": "record", "kwargs": {"n": 1}, "message_timestamp": job.timestamp}
    back = queue.get_job(job.id)
    assert back is not None and (back.id, back.queue_name, back.name, back.data, back.opts) == (
        job.id,
        queue.name,
        "record",
        {"n": 1},
        {},
    )


def test_records_in_the_full_form_still_read_and_run(
    broker: PipelineBroker,
    worker: Callable[..., dramatiq.Worker],
    client: redis.Redis,
    cleanup: None,
) -> None:
    # Given a waiting and a prioritized job written in the full form, before any worker runs
    queue = broker.queue(unique("q"))
    seen: list[tuple[str, int]] = []

    @actor(queue_name=queue.name, job_name="record", broker=broker)
    def record(n: int) -> int:
        seen.append((current_job().id, n))
        return n * 10

    waiting, prioritized = unique("old"), unique("old")
    client.set(queue.store.keys.job(waiting), b"w" + json.dumps(full_message(queue.name, waiting)).encode())
    client.lpush(queue.store.keys.wait, waiting)
    message = full_message(queue.name, prioritized, kwargs={"n": 2}, options={"priority": 3})
    client.set(queue.store.keys.job(prioritized), b"w3" + json.dumps(message).encode())
    client.zadd(queue.store.keys.prioritized, {prioritized: 3 * 2**32 + 2**31 + 1})

    # Then they read as before
    old = queue.get_job(prioritized)
    assert old is not None and (
        old.name,
        old.queue_name,
        old.data,
        old.opts,
        old.timestamp,
        old.priority,
    ) == (
        "record",
        queue.name,
        {"n": 2},
        {"priority": 3},
        1_700_000_000_000,
        3,
    )

    # When a worker runs them, they complete with their results
    worker(threads=1)
    for job_id, result in ((waiting, 10), (prioritized, 20)):
        done = wait_for(
            lambda j=job_id: (job := queue.get_job(j)) and job.state is JobState.COMPLETED and job
        )
        assert done.result == result and done.attempts_made == 1
    assert sorted(seen) == sorted([(waiting, 1), (prioritized, 2)])
