"""The producer and management API, without workers unless a test starts one."""

from __future__ import annotations

import pytest

from pipeline import Queue
from pipeline.errors import (
    InvalidJobError,
    JobNotFoundError,
    JobStateError,
    JobTimeoutError,
    RedisUnavailableError,
)
from pipeline.events import QueueEvents
from pipeline.job import JobState
from pipeline.scheduler import RepeatScheduler
from pipeline.settings import Settings
from tests.support import free_port, unique


def test_add_returns_a_waiting_job_whose_record_reads_back(make_queue):
    q = make_queue()
    job = q.add(
        "welcome",
        {"user_id": 1, "email": "a@example.com"},
        attempts=3,
        backoff={"type": "exponential", "delay": 5000},
        remove_on_complete=True,
        remove_on_fail=False,
        timeout=30_000,
        stacktrace_limit=10,
    )
    read = q.get_job(job.id)
    assert read is not None
    assert (read.name, read.queue_name, read.data, read.state) == (
        "welcome",
        q.name,
        {"user_id": 1, "email": "a@example.com"},
        JobState.WAITING,
    )
    assert read.opts == {
        "attempts": 3,
        "backoff": {"type": "exponential", "delay": 5000},
        "remove_on_complete": True,
        "remove_on_fail": False,
        "timeout": 30_000,
        "stacktrace_limit": 10,
    }
    assert read.timestamp == job.timestamp > 0
    assert read.get_state() is JobState.WAITING


def test_add_bulk_adds_every_job_in_one_call(make_queue):
    q = make_queue()
    jobs = q.add_bulk(
        [{"name": "bulk-email", "data": {"email": f"u{i}@example.com"}} for i in range(50)]
        + [{"name": "later", "data": {}, "opts": {"delay": 60_000}}]
    )
    assert len(jobs) == 51 and len({j.id for j in jobs}) == 51
    assert q.get_job_counts("waiting", "delayed") == {"waiting": 50, "delayed": 1}


@pytest.mark.parametrize(
    ("data", "opts", "match"),
    [
        ({"a": 1}, {"jobId": "x"}, "unknown job option 'jobId' \\(did you mean 'job_id'\\?\\)"),
        ({"a": 1}, {"delay": -5}, "'delay' must be >= 0"),
        ({"a": 1}, {"attempts": 0}, "'attempts' must be >= 1"),
        ({"a": 1}, {"backoff": {"type": "linear", "delay": 5}}, "unknown type 'linear'"),
        ({"a": 1}, {"priority": 2**22}, "'priority' must be <="),
        ({"a": 1}, {"remove_on_complete": "yes"}, "'remove_on_complete' must be an integer"),
        ([1, 2], {}, "must be a JSON object"),
        ("text", {}, "must be a JSON object"),
        ({"a": object()}, {}, "not JSON-serialisable"),
        ({"blob": "x" * 600_000}, {}, "over the limit"),
    ],
)
def test_bad_options_and_data_raise_and_enqueue_nothing(make_queue, data, opts, match):
    q = make_queue()
    q.add("ok", {})
    before = q.get_job_counts()
    with pytest.raises(InvalidJobError, match=match):
        q.add("x", data, **opts)
    with pytest.raises(InvalidJobError, match=match):
        q.add_bulk([{"name": "fine", "data": {}}, {"name": "x", "data": data, "opts": opts}])
    assert q.get_job_counts() == before


def test_an_unreachable_redis_gives_one_readable_error_naming_the_address():
    port = free_port()
    q = Queue("anything", settings=Settings().replace(redis_url=f"redis://127.0.0.1:{port}/0"))
    with pytest.raises(RedisUnavailableError) as caught:
        q.add("x", {})
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "redis-server" in str(caught.value)


def test_get_jobs_pages_each_state_newest_first_unless_asc(make_queue):
    q = make_queue()
    ids = [q.add("n", {"i": i}).id for i in range(10)]
    assert [j.id for j in q.get_jobs("waiting", 0, 2, asc=True)] == ids[:3]
    assert [j.id for j in q.get_jobs(["waiting"], 0, 2)] == ids[::-1][:3]
    assert [j.id for j in q.get_jobs("waiting", 3, 4, asc=True)] == ids[3:5]
    assert len(q.get_jobs(["waiting", "delayed"])) == 10


def test_prioritised_jobs_are_listed_in_run_order_before_plain_ones(make_queue):
    q = make_queue()
    plain = q.add("p", {})
    low = q.add("low", {}, priority=10)
    high = q.add("high", {}, priority=1)
    assert [j.id for j in q.get_jobs("waiting", asc=True)] == [high.id, low.id, plain.id]


def test_remove_deletes_a_waiting_job_and_missing_jobs_say_so(make_queue):
    q = make_queue()
    job = q.add("x", {})
    delayed = q.add("y", {}, delay=60_000)
    job.remove()
    delayed.remove()
    assert q.get_job(job.id) is None and q.get_job_counts("waiting", "delayed") == {
        "waiting": 0,
        "delayed": 0,
    }
    with pytest.raises(JobNotFoundError):
        job.remove()
    assert job.get_state() is None


def test_retry_of_a_job_that_did_not_fail_is_refused(make_queue):
    q = make_queue()
    job = q.add("x", {})
    with pytest.raises(JobStateError, match="it is waiting"):
        job.retry()


def test_empty_deletes_waiting_and_delayed_jobs(make_queue):
    q = make_queue()
    q.add_bulk([{"name": "x", "data": {}} for _ in range(30)])
    q.add("later", {}, delay=10_000)
    q.add("urgent", {}, priority=1)
    assert q.empty() == 32
    assert q.get_job_counts() == {"waiting": 0, "delayed": 0, "active": 0, "completed": 0, "failed": 0}


def test_clean_removes_finished_jobs_older_than_the_grace(broker, worker, make_queue):
    from pipeline import actor

    q = make_queue()

    @actor(queue_name=q.name, job_name="x", broker=broker)
    def x() -> None:
        return None

    worker()
    jobs = [q.add("x", {}) for _ in range(5)]
    for job in jobs:
        job.wait_until_finished(10)
    assert q.clean(60_000, "completed") == []
    assert sorted(q.clean(0, "completed")) == sorted(j.id for j in jobs)
    assert q.get_completed_count() == 0
    with pytest.raises(InvalidJobError):
        q.clean(0, "waiting")


def test_job_logs_are_kept_per_job(make_queue):
    q = make_queue()
    job = q.add("x", {})
    job.log("one")
    job.log("two")
    assert q.get_job_logs(job.id) == ["one", "two"]


def test_the_old_unit_less_duration_names_still_work_with_a_deprecation_warning(make_queue):
    q = make_queue()
    job = q.add("noop", {})
    try:
        with pytest.warns(DeprecationWarning, match="grace_ms"):
            assert q.clean(grace=0) == []
        with pytest.warns(DeprecationWarning, match="duration_ms"):
            q.set_rate_limit(5, duration=1000)
        assert q.get_rate_limit() == {"max": 5, "duration": 1000}
        with pytest.warns(DeprecationWarning, match="timeout_s"), pytest.raises(JobTimeoutError):
            job.wait_until_finished(timeout=0.01)
        with pytest.raises(TypeError, match="both"):
            q.clean(0, grace=0)
    finally:
        q.obliterate(force=True)


def test_events_and_the_scheduler_take_their_old_unit_less_names_with_a_deprecation_warning(settings):
    reader = QueueEvents(unique("q"), settings=settings)
    with pytest.warns(DeprecationWarning, match="timeout_s"):
        assert reader.read(timeout=0.01) == []
    with pytest.warns(DeprecationWarning, match="timeout_s"):
        assert reader.wait_for(lambda event: True, timeout=0.01) == []
    scheduler = None
    try:
        with pytest.warns(DeprecationWarning, match="poll_interval_s"):
            scheduler = RepeatScheduler(settings=settings, poll_interval=0.25)
        assert scheduler.poll_interval_s == 0.25
    finally:
        if scheduler is not None:
            scheduler.shutdown()
