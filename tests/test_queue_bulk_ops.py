"""Queue-wide operations: promote all, retry all, clean and empty with progress, obliterate."""

from __future__ import annotations

import pytest

from pipeline import Queue, actor
from pipeline.errors import InvalidJobError, QueueBusyError
from pipeline.job import JobState
from pipeline.keys import queues_set
from tests.support import wait_for


def test_promote_jobs_makes_every_delayed_job_waiting_in_due_order_and_reports_progress(make_queue):
    q = make_queue()
    jobs = [q.add("later", {"i": i}, delay=60_000 + i) for i in range(2500)]
    prioritized = q.add("urgent-later", {}, delay=60_000, priority=3)
    steps: list[int] = []

    assert q.promote_jobs(progress=steps.append) == 2501

    assert sum(steps) == 2501 and len(steps) == 3
    assert q.get_job_counts("waiting", "delayed") == {"waiting": 2501, "delayed": 0}
    assert q.get_job(prioritized.id).state is JobState.WAITING
    assert q.get_job(prioritized.id).priority == 3
    assert q.get_jobs("waiting", 0, 0, asc=True)[0].id == prioritized.id  # its priority still counts
    assert [j.id for j in q.get_jobs("waiting", 1, 3, asc=True)] == [j.id for j in jobs[:3]]


def test_promote_jobs_with_a_count_promotes_only_the_soonest_due(make_queue):
    q = make_queue()
    soon = q.add("x", {}, delay=10_000)
    q.add("x", {}, delay=90_000)
    assert q.promote_jobs(1) == 1
    assert q.get_job(soon.id).state is JobState.WAITING
    assert q.get_job_counts("delayed") == {"delayed": 1}
    with pytest.raises(InvalidJobError, match="count must be an int >= 1"):
        q.promote_jobs(0)


def test_retry_jobs_puts_every_failed_job_back_to_waiting_keeping_its_attempts(
    broker, worker, queue_name, settings
):
    @actor(queue_name=queue_name, job_name="bad", broker=broker)
    def bad() -> None:
        raise RuntimeError("no luck")

    q = Queue(queue_name, settings=settings)
    jobs = [q.add("bad", {"i": i}) for i in range(5)]
    w = worker(threads=2)
    wait_for(lambda: q.get_failed_count() == 5, 20)
    w.stop()
    steps: list[int] = []

    assert q.retry_jobs(progress=steps.append) == 5

    assert steps == [5]
    assert q.get_job_counts("waiting", "failed") == {"waiting": 5, "failed": 0}
    again = q.get_job(jobs[0].id)
    assert again.state is JobState.WAITING and again.attempts_made == 1 and again.failed_reason is None
    with pytest.raises(InvalidJobError, match="retries 'failed' jobs"):
        q.retry_jobs("completed")


def test_clean_and_empty_report_progress_batch_by_batch(make_queue):
    q = make_queue()
    q.add_bulk([{"name": "x", "data": {}} for _ in range(2100)])
    steps: list[int] = []
    assert q.empty(progress=steps.append) == 2100
    assert steps == [1000, 1000, 100]
    assert q.clean(0, "completed", progress=steps.append) == []
    assert steps == [1000, 1000, 100]


def test_obliterate_deletes_every_key_of_the_queue_and_its_name(make_queue, client, settings):
    q = make_queue()
    q.add_bulk([{"name": "x", "data": {"i": i}} for i in range(1500)])
    q.add("later", {}, delay=60_000)
    q.add("urgent", {}, priority=2)
    q.add_job_log(q.add("logged", {}).id, "a line")
    q.add("nightly", {}, repeat={"every": 60_000})
    q.set_rate_limit(10, 1000)
    q.pause()
    steps: list[int] = []

    deleted = q.obliterate(progress=steps.append)

    assert deleted == 1504 and sum(steps) == 1504
    assert list(client.scan_iter(match=f"{settings.namespace}:{{{q.name}}}:*")) == []
    assert not client.sismember(queues_set(settings.namespace), q.name)
    assert not q.exists()


def test_obliterate_refuses_while_a_job_runs_unless_forced(broker, worker, queue_name, settings):
    import threading

    release = threading.Event()

    @actor(queue_name=queue_name, job_name="hold", broker=broker)
    def hold() -> None:
        release.wait(10)

    q = Queue(queue_name, settings=settings)
    q.add("hold", {})
    q.add("later", {}, delay=60_000)
    worker(threads=1)
    wait_for(lambda: q.get_active_count() == 1, 10)
    try:
        with pytest.raises(QueueBusyError, match=f"cannot obliterate queue '{queue_name}': 1 job"):
            q.obliterate()
        assert q.get_job_counts("delayed")["delayed"] == 1  # nothing deleted
        assert q.obliterate(force=True) == 2
        assert not q.exists()
    finally:
        release.set()
