"""Deduplication beyond job ids: simple, throttle (ttl) and debounce."""

from __future__ import annotations

import pytest

from pipeline.errors import InvalidJobError
from pipeline.job import JobState
from tests.support import wait_for


def test_an_add_with_a_taken_deduplication_id_returns_the_pending_job(make_queue):
    q = make_queue()
    first = q.add("sync", {"n": 1}, deduplication={"id": "user-7"})
    again = q.add("sync", {"n": 2}, deduplication={"id": "user-7"})
    assert again.id == first.id and again.data == {"n": 1}
    assert q.get_waiting_count() == 1
    other = q.add("sync", {"n": 3}, deduplication={"id": "user-8"})
    assert other.id != first.id


def test_the_deduplication_id_frees_when_its_job_finishes_or_is_removed(broker, worker, make_queue):
    from pipeline import actor

    q = make_queue()

    @actor(queue_name=q.name, job_name="sync", broker=broker)
    def sync(n: int) -> int:
        return n

    first = q.add("sync", {"n": 1}, deduplication={"id": "user-7"})
    first.remove()
    second = q.add("sync", {"n": 2}, deduplication={"id": "user-7"})
    assert second.id != first.id
    worker()
    assert second.wait_until_finished(10) == 2
    third = q.add("sync", {"n": 3}, deduplication={"id": "user-7"})
    assert third.id != second.id and third.wait_until_finished(10) == 3


def test_throttle_ignores_adds_within_the_ttl_even_after_the_job_finished(broker, worker, make_queue, client):
    from pipeline import actor

    q = make_queue()

    @actor(queue_name=q.name, job_name="ping", broker=broker)
    def ping() -> str:
        return "pong"

    worker()
    first = q.add("ping", {}, deduplication={"id": "t", "ttl": 60_000})
    assert first.wait_until_finished(10) == "pong"
    assert q.add("ping", {}, deduplication={"id": "t", "ttl": 60_000}).id == first.id
    client.pexpire(q.store.keys.dedup_prefix + "t", 1)
    wait_for(lambda: not client.exists(q.store.keys.dedup_prefix + "t"), 5)
    assert q.add("ping", {}, deduplication={"id": "t", "ttl": 60_000}).id != first.id


def test_debounce_replaces_the_pending_data_and_restarts_the_delay(make_queue, client):
    q = make_queue()
    first = q.add(
        "save", {"v": 1}, delay=5_000, deduplication={"id": "doc-1", "mode": "debounce", "ttl": 10_000}
    )
    due_before = client.zscore(q.store.keys.delayed, first.id)
    again = q.add(
        "save", {"v": 2}, delay=8_000, deduplication={"id": "doc-1", "mode": "debounce", "ttl": 10_000}
    )
    assert again.id == first.id
    job = q.get_job(first.id)
    assert job.data == {"v": 2} and job.state is JobState.DELAYED
    assert client.zscore(q.store.keys.delayed, first.id) > due_before + 2_000
    assert q.get_job_counts("delayed")["delayed"] == 1
    events = [f[b"event"] for _, f in client.xrange(q.store.keys.events)]
    assert events == [b"delayed", b"debounced"]


@pytest.mark.parametrize(
    "dedup",
    [
        {"ttl": 5},
        {"id": ""},
        {"id": "x", "mode": "sometimes"},
        {"id": "x", "ttl": -1},
        {"id": "x", "every": 1},
    ],
)
def test_bad_deduplication_options_are_refused(make_queue, dedup):
    q = make_queue()
    with pytest.raises(InvalidJobError, match="deduplication"):
        q.add("x", {}, deduplication=dedup)
    assert q.get_job_counts()["waiting"] == 0


def test_debounce_without_a_delay_is_refused(make_queue):
    with pytest.raises(InvalidJobError, match="needs a 'delay'"):
        make_queue().add("x", {}, deduplication={"id": "a", "mode": "debounce"})
