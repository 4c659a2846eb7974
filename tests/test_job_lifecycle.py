"""Retries, failures, timeouts and record keeping, through a real worker."""

from __future__ import annotations

import pytest

from pipeline import Queue, actor
from pipeline.errors import JobFailedError, UnrecoverableError
from pipeline.events import QueueEvents
from pipeline.job import JobState
from tests.support import unique, wait_for


def test_exponential_backoff_retries_until_success_with_doubling_waits(
    settings, queue_name, worker_process, client
):
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    key = unique("flaky")
    q = Queue(queue_name, settings=settings)

    job = q.add(
        "flaky", {"key": key, "fail_times": 2}, attempts=3, backoff={"type": "exponential", "delay": 400}
    )

    assert job.wait_until_finished(30) == "ok after 3"
    done = q.get_job(job.id)
    assert done.state is JobState.COMPLETED and done.attempts_made == 3
    # The schedule itself: each "delayed" event carries its due time, and its stream id the
    # time the retry was decided, both on Redis's clock in one script.
    delayed = [e for e in QueueEvents(queue_name, settings=settings).recent(1000) if e.name == "delayed"]
    waits = [int(e.payload["delay"]) - int(e.id.split("-")[0]) for e in delayed if e.job_id == job.id]
    assert [round(w, -2) for w in waits] == [400, 800]
    # And no attempt ran before its time (a lower bound only: a busy machine may run it later).
    starts = [float(s) for s in client.lrange(key + ":starts", 0, -1)]
    assert starts[1] - starts[0] >= 0.4 and starts[2] - starts[1] >= 0.8


def test_a_job_between_attempts_is_delayed_with_its_last_failure(settings, queue_name, worker_process):
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    q = Queue(queue_name, settings=settings)
    job = q.add("flaky", {"key": unique("flaky"), "fail_times": 5}, attempts=2, backoff=60_000)
    delayed = wait_for(lambda: (j := q.get_job(job.id)) and j.state is JobState.DELAYED and j)
    assert delayed.attempts_made == 1 and delayed.failed_reason == "flaky failure 1"
    assert q.get_job_counts("delayed", "active") == {"delayed": 1, "active": 0}


def test_exhausted_attempts_fail_the_job_with_reason_and_a_bounded_stacktrace(
    settings, queue_name, worker_process
):
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    q = Queue(queue_name, settings=settings)

    job = q.add("always-fails", {}, attempts=2, backoff=10, stacktrace_limit=5)

    with pytest.raises(JobFailedError, match="boom: the handler gave up"):
        job.wait_until_finished(30)
    failed = q.get_job(job.id)
    assert failed.state is JobState.FAILED and failed.attempts_made == 2
    assert failed.failed_reason == "boom: the handler gave up"
    assert 1 <= len(failed.stacktrace) <= 5
    for trace in failed.stacktrace:
        assert trace.count('File "') <= 5
        assert "ValueError: boom" in trace
    assert q.get_jobs("failed")[0].id == job.id


def test_remove_on_complete_true_leaves_no_record_and_a_number_keeps_the_newest(
    settings, queue_name, worker_process
):
    # one thread, so jobs finish in the order they were added
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name}, threads=1)
    q = Queue(queue_name, settings=settings)

    gone = q.add("echo", {"n": 0}, remove_on_complete=True)
    kept = [q.add("echo", {"n": i}, remove_on_complete=3) for i in range(1, 7)]

    wait_for(lambda: q.get_job_counts("waiting", "active") == {"waiting": 0, "active": 0}, 20)
    wait_for(lambda: q.get_completed_count() == 3, 10)
    assert q.get_job(gone.id) is None
    remaining = {j.id for j in q.get_jobs("completed")}
    assert remaining == {j.id for j in kept[-3:]}
    assert all(q.get_job(j.id) is None for j in kept[:3])


def test_a_timeout_fails_an_attempt_that_runs_too_long(settings, queue_name, worker_process):
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    q = Queue(queue_name, settings=settings)

    job = q.add("slow", {"seconds": 5}, timeout=500)

    with pytest.raises(JobFailedError, match="timeout of 500 ms exceeded"):
        job.wait_until_finished(10)


def test_a_job_name_with_no_handler_and_no_catch_all_fails_naming_it(broker, worker, queue_name, settings):
    @actor(queue_name=queue_name, job_name="known", broker=broker)
    def known() -> None:
        return None

    worker()
    q = Queue(queue_name, settings=settings)
    job = q.add("mystery", {})
    with pytest.raises(JobFailedError, match="no handler for job name 'mystery'"):
        job.wait_until_finished(10)


def test_an_unrecoverable_error_fails_at_once_without_using_attempts(broker, worker, queue_name, settings):
    calls = []

    @actor(queue_name=queue_name, job_name="bad-input", broker=broker, attempts=5)
    def bad_input() -> None:
        calls.append(1)
        raise UnrecoverableError("payload is not an image")

    worker()
    job = Queue(queue_name, settings=settings).add("bad-input", {})
    with pytest.raises(JobFailedError, match="payload is not an image"):
        job.wait_until_finished(10)
    assert len(calls) == 1


def test_a_failed_job_retried_by_hand_runs_again(broker, worker, queue_name, settings):
    outcomes = iter([RuntimeError("first"), None])

    @actor(queue_name=queue_name, job_name="once-bad", broker=broker)
    def once_bad() -> str:
        outcome = next(outcomes)
        if outcome is not None:
            raise outcome
        return "fine"

    worker()
    q = Queue(queue_name, settings=settings)
    job = q.add("once-bad", {})
    with pytest.raises(JobFailedError):
        job.wait_until_finished(10)
    job.retry()
    assert job.wait_until_finished(10) == "fine"
    assert q.get_job_counts("failed", "completed") == {"failed": 0, "completed": 1}


def test_plain_dramatiq_actors_keep_dramatiq_retry_options(broker, worker, queue_name, settings):
    import dramatiq

    runs = []

    @dramatiq.actor(queue_name=queue_name, broker=broker, max_retries=2, min_backoff=10, max_backoff=20)
    def plain() -> None:
        runs.append(1)
        raise RuntimeError("plain failure")

    worker()
    message = plain.send()
    q = Queue(queue_name, settings=settings)
    wait_for(lambda: (j := q.get_job(message.message_id)) and j.state is JobState.FAILED, 10)
    assert len(runs) == 3
