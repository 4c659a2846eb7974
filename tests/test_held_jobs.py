"""Which jobs a worker process holds (and so renews), whichever consumer took them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from pipeline.broker import PipelineBroker
from pipeline.job import JobState
from pipeline.job_message import JobMessage
from pipeline.queue import Queue
from tests.support import unique


@pytest.fixture
def q(broker: PipelineBroker, client: redis.Redis) -> Iterator[Queue]:
    queue = broker.queue(unique("q"))
    yield queue
    for key in client.scan_iter(match=f"{broker.settings.namespace}:*", count=1000):
        client.delete(key)


def _take(broker: PipelineBroker, q: Queue, consumer=None) -> JobMessage:
    consumer = consumer or broker.consume(q.name, prefetch=2, timeout=100)
    message = next(consumer)
    assert isinstance(message, JobMessage)
    return message


def _expire(client: redis.Redis, q: Queue, job_id: str) -> None:
    client.zadd(q.store.keys.active, {job_id: 0})


def test_a_job_stays_held_after_its_consumer_is_closed_until_its_outcome_is_recorded(broker, q):
    job = q.add("echo", {})
    consumer = broker.consume(q.name, prefetch=2, timeout=100)
    message = _take(broker, q, consumer)

    consumer.close()  # as Dramatiq does after a connection error, while the job runs on

    assert broker.held_jobs() == {q.name: [(job.id, message.token)]}
    broker.consume(q.name, prefetch=2, timeout=100).ack(message)  # reported through the rebuilt one
    assert broker.held_jobs() == {}
    assert q.get_job(job.id).state is JobState.COMPLETED


def test_a_first_runs_rejected_report_does_not_release_the_rerun_of_the_same_job(broker, q, client):
    job = q.add("echo", {})
    consumer = broker.consume(q.name, prefetch=2, timeout=100)
    first = _take(broker, q, consumer)
    _expire(client, q, job.id)
    assert q.store.reclaim_stalled(max_stalled=1, interval_ms=1, lock_ms=2000) == [(job.id, "waiting")]
    client.hdel(q.store.keys.job(job.id), "reclaimed")  # no take-back: another run takes it
    second = _take(broker, q, consumer)
    assert second.job_id == first.job_id and second.token != first.token

    consumer.ack(first)  # the first run's late report: rejected

    assert first.outcome == "rejected"
    assert broker.held_jobs() == {q.name: [(job.id, second.token)]}
    consumer.ack(second)
    assert second.outcome == "completed"


def test_renewal_takes_back_a_job_a_sweep_moved_while_its_worker_was_unreachable(broker, q, client):
    job = q.add("echo", {})
    message = _take(broker, q)
    _expire(client, q, job.id)
    assert q.store.reclaim_stalled(max_stalled=1, interval_ms=1, lock_ms=2000) == [(job.id, "waiting")]
    assert q.get_job(job.id).state is JobState.WAITING

    cancelled, lost, retaken = q.store.extend_locks([(job.id, message.token)], 2000, "1000|2000|test")

    assert (cancelled, lost, retaken) == ([], [], [job.id])
    assert q.get_job(job.id).state is JobState.ACTIVE
    assert q.get_job_counts("waiting", "active") == {"waiting": 0, "active": 1}
    assert client.hget(q.store.keys.job(job.id), "stalled_count") == b"0"  # not counted


def test_a_job_another_worker_took_after_the_sweep_is_not_taken_back(broker, q, client):
    job = q.add("echo", {})
    first = _take(broker, q)
    _expire(client, q, job.id)
    q.store.reclaim_stalled(max_stalled=1, interval_ms=1, lock_ms=2000)
    second = _take(broker, q)

    _, lost, retaken = q.store.extend_locks([(job.id, first.token)], 2000)

    assert (lost, retaken) == ([job.id], [])
    assert client.hget(q.store.keys.job(job.id), "token") == second.token.encode()


def test_a_worker_renews_and_sweeps_only_the_queues_it_consumes(broker, worker, client):
    import dramatiq

    from tests.support import wait_for

    served, declared_only = unique("q"), unique("q")

    @dramatiq.actor(queue_name=served)
    def a() -> None: ...

    @dramatiq.actor(queue_name=declared_only)
    def b() -> None: ...

    worker(threads=1, queues={served})
    keys = {name: broker.store(name).keys for name in (served, declared_only)}
    wait_for(lambda: client.exists(keys[served].stall_guard), 10, message="served queue swept")
    assert client.zcard(keys[served].holders) == 1
    assert not client.exists(keys[declared_only].stall_guard, keys[declared_only].holders)
    for key in client.scan_iter(match=f"{broker.settings.namespace}:*", count=1000):
        client.delete(key)
