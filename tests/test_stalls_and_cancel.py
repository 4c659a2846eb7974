"""Stalled-job recovery, zombie workers, cancellation, metrics and worker health."""

from __future__ import annotations

import signal

import pytest

from pipeline import Queue
from pipeline.errors import JobFailedError
from pipeline.events import QueueEvents
from pipeline.job import JobState
from tests.support import SkewedClock, unique, wait_for

FAST_LOCKS = {"PIPELINE_LOCK_DURATION_MS": "1000", "PIPELINE_STALLED_INTERVAL_MS": "500"}


def _worker_env(queue_name: str, tag: str, **extra: str) -> dict[str, str]:
    return {"TEST_QUEUE": queue_name, "TEST_WORKER_TAG": tag, **FAST_LOCKS, **extra}


def test_jobs_of_a_killed_worker_stall_and_complete_elsewhere_exactly_once_more(
    settings, queue_name, worker_process, client
):
    runs = unique("runs")
    q = Queue(queue_name, settings=settings)
    events = QueueEvents(queue_name, settings=settings)
    doomed = worker_process("tests.apps.basic", env=_worker_env(queue_name, "A"), threads=8)
    jobs = [q.add("tagged-slow", {"seconds": 2, "key": f"{runs}:{i}"}) for i in range(8)]
    wait_for(lambda: all(client.llen(f"{runs}:{i}") == 1 for i in range(8)), 20, message="8 jobs running")

    doomed.kill(signal.SIGKILL)
    worker_process("tests.apps.basic", env=_worker_env(queue_name, "B"), threads=8)

    for job in jobs:
        assert job.wait_until_finished(1 + 0.5 + 5 + 2 + 5) == "B"
    assert [client.lrange(f"{runs}:{i}", 0, -1) for i in range(8)] == [[b"A", b"B"]] * 8
    stalled = {e.job_id for e in events.read(timeout_s=1, count=10_000) if e.name == "stalled"}
    assert stalled == {j.id for j in jobs}


def test_a_frozen_worker_that_wakes_after_its_job_was_reclaimed_cannot_overwrite_the_outcome(
    settings, queue_name, worker_process, client
):
    runs = unique("runs")
    q = Queue(queue_name, settings=settings)
    frozen = worker_process("tests.apps.basic", env=_worker_env(queue_name, "A"), threads=1)
    job = q.add("tagged-slow", {"seconds": 1.5, "key": runs})
    wait_for(lambda: client.llen(runs) == 1, 20)
    frozen.kill(signal.SIGSTOP)
    try:
        worker_process("tests.apps.basic", env=_worker_env(queue_name, "B"), threads=1)
        assert job.wait_until_finished(20) == "B"
    finally:
        frozen.kill(signal.SIGCONT)
    wait_for(lambda: "Rejected the outcome of job" in frozen.log(), 15, message="zombie report rejected")
    done = q.get_job(job.id)
    assert done.state is JobState.COMPLETED and done.result == "B"
    assert client.lrange(runs, 0, -1) == [b"A", b"B"]


def test_cancelling_a_running_cooperative_job_ends_it_with_the_reason(
    settings, queue_name, worker_process, client
):
    started = unique("started")
    q = Queue(queue_name, settings=settings)
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    job = q.add("cooperative", {"key": started})
    wait_for(lambda: client.llen(started) == 1, 20)

    assert job.cancel("user closed the tab") is False  # running: asked to stop

    # It ends with the reason well before it would have finished by itself.
    with pytest.raises(JobFailedError, match="user closed the tab"):
        job.wait_until_finished(5)


def test_a_running_job_that_ignores_cancel_is_interrupted_after_the_grace(
    settings, queue_name, worker_process, client
):
    started = unique("started")
    q = Queue(queue_name, settings=settings)
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name, "PIPELINE_CANCEL_GRACE_MS": "300"})
    job = q.add("stubborn", {"key": started}, attempts=3)
    wait_for(lambda: client.llen(started) == 1, 20)
    job.cancel("no longer needed")
    with pytest.raises(JobFailedError, match="no longer needed"):
        job.wait_until_finished(10)
    assert q.get_job(job.id).attempts_made == 1


def test_a_cancelled_waiting_job_never_starts(settings, queue_name, worker_process, client):
    started = unique("started")
    q = Queue(queue_name, settings=settings)
    job = q.add("cooperative", {"key": started})
    assert job.cancel("changed my mind") is True
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    q.add("echo", {}).wait_until_finished(20)  # the worker is past the cancelled job
    cancelled = q.get_job(job.id)
    assert cancelled.state is JobState.FAILED and cancelled.failed_reason == "changed my mind"
    assert client.llen(started) == 0


def test_a_cancelled_prefetched_job_fails_with_the_reason_and_its_handler_never_starts(
    settings, queue_name, worker_process, client
):
    started = unique("started")
    q = Queue(queue_name, settings=settings)
    env = {"TEST_QUEUE": queue_name, "PIPELINE_CANCEL_GRACE_MS": "300"}
    worker_process("tests.apps.basic", env=env, threads=1)
    blocker = q.add("stubborn", {"key": started})
    wait_for(lambda: client.llen(started) == 1, 20)
    prefetched = q.add("record-start", {"key": started, "tag": "should-not-run"})
    wait_for(lambda: q.get_job(prefetched.id).state is JobState.ACTIVE, 20)  # reserved, not started

    assert prefetched.cancel("not wanted any more") is False  # active: a request
    # The blocker is interrupted only after the grace, so the worker has seen both cancels by then.
    blocker.cancel("make room")

    with pytest.raises(JobFailedError, match="not wanted any more"):
        prefetched.wait_until_finished(20)
    assert client.lrange(started, 0, -1) == [b"started"]  # only the blocker ever started
    assert q.get_job(prefetched.id).attempts_made == 1


def test_metrics_and_workers_answer_with_live_figures(settings, queue_name, worker_process):
    q = Queue(queue_name, settings=settings)
    worker = worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name}, threads=2)
    for job in [q.add("echo", {"i": i}) for i in range(5)]:
        job.wait_until_finished(20)
    with pytest.raises(JobFailedError):
        q.add("always-fails", {}).wait_until_finished(20)
    q.pause()
    q.add("echo", {"late": True})

    completed = q.get_metrics("completed")
    assert completed.count == 5 and sum(completed.data[:2]) == 5
    assert completed.per_name == {"echo": 5, "always-fails": 0}
    assert set(completed.duration_ms) == {"p50", "p90", "p99", "max"}
    assert q.get_metrics("failed").count == 1
    assert q.get_metrics("completed", name="echo").count == 5
    assert completed.oldest_waiting_age_ms is not None and completed.oldest_waiting_age_ms >= 0

    workers = wait_for(lambda: q.get_workers(), 10)
    assert len(workers) == 1
    assert workers[0]["pid"] in worker.child_pids() and queue_name in workers[0]["queues"]
    assert workers[0]["last_heartbeat"] >= workers[0]["started"]


def test_locks_count_on_redis_clock_so_hosts_with_skewed_clocks_agree(settings, queue_name):
    hour = 3_600_000
    clock = SkewedClock()
    q = Queue(queue_name, settings=settings, clock=clock)
    job = q.add("echo", {})

    clock.offset_ms = -hour  # the worker's host is behind
    (held,), _, _, _ = q.store.fetch(1, 30_000, "30000|worker", 0)
    q.store.extend_locks([(held.job_id, held.token)], 30_000)
    clock.offset_ms = hour  # the sweeper's is ahead

    assert q.store.reclaim_stalled(max_stalled=0, interval_ms=10) == []
    assert q.get_job(job.id).state is JobState.ACTIVE
    expires_in = int(q.store.client.zscore(q.store.keys.active, job.id)) - q.store.redis_ms()
    assert 25_000 < expires_in <= 30_000
