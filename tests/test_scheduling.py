"""Durable delays, global priority, LIFO, pause, rate limits."""

from __future__ import annotations

import time

import pytest

from pipeline import Queue
from pipeline.errors import InvalidJobError, JobStateError
from pipeline.job import JobState
from tests.support import SkewedClock, unique, wait_for

EIGHT_DAYS_MS = 8 * 86_400_000


def test_a_delayed_job_is_listed_and_can_be_promoted_rescheduled_and_removed(
    settings, queue_name, worker_process, client
):
    q = Queue(queue_name, settings=settings)
    starts = unique("starts")
    promoted = q.add("record-start", {"key": starts, "tag": "promoted"}, delay=EIGHT_DAYS_MS)
    removed = q.add("record-start", {"key": starts, "tag": "removed"}, delay=60_000)
    moved = q.add("record-start", {"key": starts, "tag": "moved"}, delay=EIGHT_DAYS_MS)

    assert q.get_job_counts("delayed", "waiting") == {"delayed": 3, "waiting": 0}
    assert {j.id for j in q.get_jobs("delayed")} == {promoted.id, removed.id, moved.id}
    assert q.get_job(promoted.id).delay == EIGHT_DAYS_MS

    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    removed.remove()
    promoted.promote()
    moved.change_delay(300)
    assert promoted.wait_until_finished(10) == "promoted"
    assert moved.wait_until_finished(10) == "moved"
    assert q.get_job(removed.id) is None
    assert client.lrange(starts, 0, -1) == [b"promoted", b"moved"]
    with pytest.raises(JobStateError):
        moved.promote()


def test_a_delayed_job_runs_on_time_after_every_worker_was_restarted(settings, queue_name, worker_process):
    q = Queue(queue_name, settings=settings)
    first = worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    job = q.add("echo", {"n": 1}, delay=4000)
    due = job.timestamp / 1000 + 4
    first.stop()
    assert q.get_job(job.id).state is JobState.DELAYED  # no worker holds it in memory
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    ready_at = time.time()
    assert job.wait_until_finished(15) == {"n": 1}
    started = q.get_job(job.id).processed_on / 1000
    assert started >= due  # never early
    # On time: within a second of when it was due, or of when a worker existed to run it.
    assert started < max(due, ready_at) + 1.0


def test_a_priority_1_job_added_behind_20_lower_ones_is_among_the_first_two_started(
    settings, queue_name, worker_process, client
):
    q = Queue(queue_name, settings=settings)
    starts = unique("starts")
    q.pause()
    q.add_bulk(
        [
            {"name": "record-start", "data": {"key": starts, "tag": f"low-{i}"}, "opts": {"priority": 10}}
            for i in range(20)
        ]
    )
    q.add("record-start", {"key": starts, "tag": "urgent"}, priority=1)
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name}, threads=1)
    q.resume()
    wait_for(lambda: client.llen(starts) == 21, 20)
    assert b"urgent" in client.lrange(starts, 0, 1)


def test_lifo_jobs_run_newest_first_on_a_single_threaded_worker(settings, queue_name, worker_process, client):
    q = Queue(queue_name, settings=settings)
    starts = unique("starts")
    q.pause()
    for i in range(6):
        q.add("record-start", {"key": starts, "tag": str(i)}, lifo=True)
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name}, threads=1)
    q.resume()
    wait_for(lambda: client.llen(starts) == 6, 20)
    assert [int(t) for t in client.lrange(starts, 0, -1)] == [5, 4, 3, 2, 1, 0]


def test_a_paused_queue_starts_nothing_on_any_worker_until_resumed(
    settings, queue_name, worker_process, client
):
    q = Queue(queue_name, settings=settings)
    starts = unique("starts")
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    q.pause()
    assert q.is_paused()
    jobs = [q.add("record-start", {"key": starts, "tag": str(i)}) for i in range(5)]
    assert q.get_job_counts("waiting")["paused"] == 5

    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:  # two seconds of watching: nothing may start
        assert client.llen(starts) == 0
        time.sleep(0.05)

    q.resume()
    for job in jobs:
        job.wait_until_finished(5)
    assert not q.is_paused() and client.llen(starts) == 5


def test_the_rate_limit_holds_across_processes_and_costs_no_attempt(settings, queue_name, worker_process):
    q = Queue(queue_name, settings=settings, limiter={"max": 5, "duration": 1000})
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name}, threads=4)
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name}, threads=4)
    jobs = q.add_bulk([{"name": "echo", "data": {"i": i}} for i in range(30)])
    for job in jobs:
        job.wait_until_finished(20)

    starts = sorted(
        int(fields[b"at"])
        for _, fields in q.client.xrange(q.store.keys.events)
        if fields[b"event"] == b"active"
    )
    assert len(starts) == 30
    busiest = max(sum(1 for s in starts if t <= s < t + 1000) for t in starts)
    assert busiest <= 5
    assert starts[-1] - starts[0] >= 5000  # 30 jobs at 5/s need at least 5 more windows
    assert all(q.get_job(j.id).attempts_made == 1 for j in jobs)
    assert q.get_job_counts("completed", "failed") == {"completed": 30, "failed": 0}


def test_a_group_limit_limits_each_tenant_apart(settings, queue_name, worker_process):
    q = Queue(queue_name, settings=settings)
    q.set_rate_limit(2, 1000, group_key="tenant")
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name}, threads=4)
    jobs = q.add_bulk([{"name": "echo", "data": {"tenant": t, "i": i}} for i in range(4) for t in ("a", "b")])
    for job in jobs:
        job.wait_until_finished(20)
    by_tenant: dict[str, list[float]] = {"a": [], "b": []}
    for job in jobs:
        fresh = q.get_job(job.id)
        by_tenant[fresh.data["tenant"]].append(fresh.processed_on)
    for times in by_tenant.values():
        times.sort()
        assert times[2] - times[0] >= 1000 and times[3] - times[1] >= 1000
    # both tenants started their first two at once: one tenant's limit never held up the other
    assert abs(by_tenant["a"][0] - by_tenant["b"][0]) < 1000
    q.remove_rate_limit()
    assert q.get_rate_limit() is None


def test_bad_limiters_are_refused(make_queue):
    q = make_queue()
    with pytest.raises(InvalidJobError, match=r"limiter\.max"):
        q.set_rate_limit(0, 1000)
    with pytest.raises(InvalidJobError, match="unknown keys"):
        Queue(q.name, settings=q.settings, limiter={"max": 1, "duration": 10, "per": "x"})


def test_priority_aging_lifts_a_long_waiting_low_priority_job(settings, queue_name, worker_process, client):
    q = Queue(queue_name, settings=settings)
    starts = unique("starts")
    q.set_priority_aging(200)
    q.pause()
    q.add("record-start", {"key": starts, "tag": "old-low"}, priority=3)
    wait_for(lambda: time.time() * 1000 - q.get_jobs("waiting")[0].timestamp > 600, 5)
    q.add_bulk(
        [
            {"name": "record-start", "data": {"key": starts, "tag": f"new-{i}"}, "opts": {"priority": 1}}
            for i in range(3)
        ]
    )
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name}, threads=1)
    q.resume()
    wait_for(lambda: client.llen(starts) == 4, 20)
    assert client.lrange(starts, 0, 0) == [b"old-low"]


def test_without_aging_priorities_are_strict(settings, queue_name, worker_process, client):
    q = Queue(queue_name, settings=settings)
    starts = unique("starts")
    q.pause()
    q.add("record-start", {"key": starts, "tag": "old-low"}, priority=3)
    q.add_bulk(
        [
            {"name": "record-start", "data": {"key": starts, "tag": f"new-{i}"}, "opts": {"priority": 1}}
            for i in range(3)
        ]
    )
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name}, threads=1)
    q.resume()
    wait_for(lambda: client.llen(starts) == 4, 20)
    assert client.lrange(starts, -1, -1) == [b"old-low"]


def test_delays_count_on_redis_clock_so_skewed_producers_and_workers_agree(settings, queue_name):
    hour = 3_600_000
    clock = SkewedClock(hour)  # the producer's host is ahead
    q = Queue(queue_name, settings=settings, clock=clock)

    job = q.add("echo", {}, delay=60_000)
    due_in = int(q.store.client.zscore(q.store.keys.delayed, job.id)) - q.store.redis_ms()
    assert 55_000 < due_in <= 60_000

    clock.offset_ms = 2 * hour  # a worker's is further ahead
    taken, wake_in, _, _ = q.store.fetch(1, 30_000, "30000|worker", 0)
    assert taken == [] and wake_in is not None and 55_000 < wake_in <= 60_000
    assert q.get_job(job.id).state is JobState.DELAYED

    job.change_delay(100)
    wait_for(lambda: q.store.fetch(1, 30_000, "30000|worker", 0)[0], 5, message="due on Redis's clock")
