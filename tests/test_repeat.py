"""Cron and interval repeats: definitions in Redis, fired by scheduler processes."""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from pipeline.clock import now_ms
from pipeline.errors import InvalidJobError
from pipeline.job import JobState
from pipeline.queue import Queue
from pipeline.repeat import advance, occurrence_id
from pipeline.scheduler import RepeatScheduler
from pipeline.triggers import RepeatTrigger, from_ms, to_ms
from tests.support import LoggedProcess, unique, wait_for

NEW_YORK = ZoneInfo("America/New_York")
IDLE = {"waiting": 0, "delayed": 0, "active": 0}


class SchedulerProcess(LoggedProcess):
    """``pipeline scheduler`` in a subprocess."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__([sys.executable, "-m", "pipeline.cli", "scheduler"], env)

    def wait_ready(self) -> SchedulerProcess:
        wait_for(lambda: "Scheduler is ready" in self.log() or self.proc.poll() is not None, 30)
        assert self.proc.poll() is None, "scheduler exited:\n" + self.log()
        return self


@pytest.fixture
def scheduler_process(settings) -> Iterator[Callable[[], SchedulerProcess]]:
    started: list[SchedulerProcess] = []

    def start() -> SchedulerProcess:
        proc = SchedulerProcess({"REDIS_URL": settings.redis_url, "PIPELINE_NAMESPACE": settings.namespace})
        started.append(proc)
        return proc.wait_ready()

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def in_process_scheduler(settings) -> Iterator[Callable[[], RepeatScheduler]]:
    """A scheduler in this process, so a test can see what it has scheduled."""
    started: list[tuple[RepeatScheduler, threading.Event, threading.Thread]] = []

    def start() -> RepeatScheduler:
        scheduler = RepeatScheduler(settings=settings, poll_interval_s=0.1).start()
        stop = threading.Event()
        thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
        thread.start()
        started.append((scheduler, stop, thread))
        return scheduler

    yield start
    for scheduler, stop, thread in started:
        stop.set()
        thread.join(10)
        scheduler.shutdown()


def _fire_time(job_id: str) -> int:
    return int(job_id.rsplit(":", 1)[1])


def _counter(client, key: str) -> int:
    return int(client.get(key) or 0)


# -- adding and listing ----------------------------------------------------------------------


def test_add_returns_the_first_occurrence_as_a_delayed_job_and_lists_the_repeat(make_queue):
    q = make_queue()

    job = q.add(
        "newsletter",
        {"issue": 7},
        repeat={"cron": "0 9 * * 1", "tz": "America/New_York", "end_date": "2100-01-01T00:00", "limit": 100},
        attempts=3,
    )

    assert job is not None and job.state is JobState.DELAYED and job.id.startswith("repeat:")
    local = from_ms(_fire_time(job.id)).astimezone(NEW_YORK)
    assert (local.strftime("%A"), local.hour, local.minute) == ("Monday", 9, 0)
    assert job.data == {"issue": 7} and job.opts["attempts"] == 3
    assert [j.id for j in q.get_jobs("delayed")] == [job.id]
    [repeat] = q.get_repeatable_jobs()
    assert repeat.key == "newsletter::America/New_York:0 9 * * 1"
    assert (repeat.name, repeat.pattern, repeat.every, repeat.tz) == (
        "newsletter",
        "0 9 * * 1",
        None,
        "America/New_York",
    )
    assert (repeat.next_run, repeat.count, repeat.limit) == (_fire_time(job.id), 1, 100)
    assert repeat.end_date == to_ms(datetime(2100, 1, 1, tzinfo=NEW_YORK))


def test_every_with_a_start_date_fires_first_at_the_start_date(make_queue):
    q = make_queue()
    start = now_ms() + 600_000

    job = q.add("sync", {}, repeat={"every": 60_000, "start_date": start})

    assert job is not None and _fire_time(job.id) == start
    assert q.get_job(job.id).state is JobState.DELAYED


def test_adding_the_same_repeat_again_updates_the_one_schedule(make_queue):
    q = make_queue()
    repeat = {"cron": "0 9 * * 1", "tz": "America/New_York"}

    first = q.add("digest", {"v": 1}, repeat={**repeat, "limit": 100})
    again = q.add("digest", {"v": 2}, repeat={**repeat, "limit": 50})

    assert first is not None and again is not None and again.id == first.id
    [definition] = q.get_repeatable_jobs()
    assert (definition.limit, definition.data, definition.count) == (50, {"v": 2}, 1)
    assert q.get_delayed_count() == 1

    # Another zone, or another job_id, is another schedule (the key holds both)
    q.add("digest", {}, repeat={**repeat, "tz": "Europe/Paris"})
    q.add("digest", {}, repeat=repeat, job_id="team-a")
    assert len(q.get_repeatable_jobs()) == 3 and q.get_delayed_count() == 3


@pytest.mark.parametrize(
    ("repeat", "match"),
    [
        ({"cron": "0 9 * *"}, "'0 9 \\* \\*' is not a valid cron expression: expected 5 fields"),
        ({"cron": "61 * * * *"}, "not a valid cron expression"),
        ({"cron": "0 9 * * funday"}, "not a valid cron expression: weekday 'funday'"),
        ({"cron": "0 0 30 2 *"}, "never fires"),
        ({"cron": "0 9 * * 1", "tz": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"cron": "* * * * *", "every": 1000}, "exactly one of 'cron' or 'every', got both"),
        ({"limit": 3}, "exactly one of 'cron' or 'every', got neither"),
        ({"every": 0}, "'repeat.every' must be >= 1"),
        ({"every": 1000, "limit": 0}, "'repeat.limit' must be >= 1"),
        ({"every": 1000, "endDate": 5}, "unknown repeat option 'endDate' \\(did you mean 'end_date'\\?\\)"),
        ({"pattern": "* * * * *"}, "did you mean 'cron'"),
        ({"every": 1000, "start_date": "tomorrow"}, "'repeat.start_date' is not an ISO 8601 date"),
        ({"every": 1000, "start_date": 2_000, "end_date": 1_000}, "end_date must be after"),
        ({"every": 1000, "tz": "UTC"}, "tz applies to 'cron' only"),
        ("0 9 * * 1", "must be a mapping"),
    ],
)
def test_a_bad_repeat_raises_at_add_and_stores_nothing(make_queue, repeat, match):
    q = make_queue()

    with pytest.raises(InvalidJobError, match=match) as caught:
        q.add("report", {}, repeat=repeat)

    assert caught.value.field.startswith("repeat")
    assert q.get_repeatable_jobs() == []
    assert q.get_job_counts() == {**IDLE, "completed": 0, "failed": 0}


def test_repeat_cannot_be_delayed_nor_added_in_bulk(make_queue):
    q = make_queue()
    with pytest.raises(InvalidJobError, match="'delay' cannot be combined with 'repeat'"):
        q.add("report", {}, repeat={"every": 1000}, delay=5)
    with pytest.raises(InvalidJobError, match="'repeat' is taken by add\\(\\) only"):
        q.add_bulk([{"name": "report", "opts": {"repeat": {"every": 1000}}}])
    assert q.get_repeatable_jobs() == []


# -- fire times ------------------------------------------------------------------------------


def _fires(cron: str, start: datetime, n: int) -> list[str]:
    trigger, after, out = RepeatTrigger(cron=cron, tz="America/New_York"), to_ms(start), []
    for _ in range(n):
        after = trigger.next_after(after)
        out.append(from_ms(after).astimezone(NEW_YORK).isoformat())
    return out


def test_cron_weekdays_count_from_sunday_and_fire_at_local_time_across_dst():
    assert _fires("0 9 * * 1", datetime(2024, 3, 1, tzinfo=NEW_YORK), 3) == [
        "2024-03-04T09:00:00-05:00",
        "2024-03-11T09:00:00-04:00",
        "2024-03-18T09:00:00-04:00",
    ]
    assert _fires("0 9 * * 0,7", datetime(2024, 3, 1, tzinfo=NEW_YORK), 1) == ["2024-03-03T09:00:00-05:00"]


def test_a_repeated_local_time_in_autumn_fires_once():
    assert _fires("30 1 * * *", datetime(2024, 11, 2, 12, tzinfo=NEW_YORK), 2) == [
        "2024-11-03T01:30:00-04:00",
        "2024-11-04T01:30:00-05:00",
    ]
    half_hours = _fires("*/30 * * * *", datetime(2024, 11, 3, 0, 15, tzinfo=NEW_YORK), 5)
    assert half_hours == [
        "2024-11-03T00:30:00-04:00",
        "2024-11-03T01:00:00-04:00",
        "2024-11-03T01:30:00-04:00",
        "2024-11-03T02:00:00-05:00",
        "2024-11-03T02:30:00-05:00",
    ]


def test_a_skipped_local_time_in_spring_fires_once_shifted_by_the_gap():
    assert _fires("30 2 * * *", datetime(2024, 3, 9, 12, tzinfo=NEW_YORK), 2) == [
        "2024-03-10T03:30:00-04:00",
        "2024-03-11T02:30:00-04:00",
    ]
    assert _fires("*/30 * * * *", datetime(2024, 3, 10, 1, 15, tzinfo=NEW_YORK), 5) == [
        "2024-03-10T01:30:00-05:00",
        "2024-03-10T03:00:00-04:00",
        "2024-03-10T03:30:00-04:00",
        "2024-03-10T04:00:00-04:00",
        "2024-03-10T04:30:00-04:00",
    ]


def test_cron_day_and_weekday_both_restricted_fire_when_either_matches():
    fires = _fires("0 0 13 * 5", datetime(2024, 10, 1, tzinfo=NEW_YORK), 4)  # the 13th is a Sunday
    assert [f[:10] for f in fires] == ["2024-10-04", "2024-10-11", "2024-10-13", "2024-10-18"]


# -- firing ----------------------------------------------------------------------------------


def test_missed_fires_are_coalesced_into_one_run_not_replayed(make_queue):
    # Given a repeat whose pending occurrence ran while no scheduler was running
    q = make_queue()
    first = q.add("tick", {}, repeat={"every": 1000})
    assert first is not None
    definition = q.get_repeatable_jobs()[0]
    pending = _fire_time(first.id)

    # When a scheduler fires it 10.5 intervals late
    added = advance(q, definition.id, now=pending + 10_500)

    # Then one run stands for the ten missed fires, and the schedule resumes after now
    assert [j.id for j in added] == [
        occurrence_id(definition.id, pending + 1000),
        occurrence_id(definition.id, pending + 11_000),
    ]
    again = q.get_repeatable_jobs()[0]
    assert (again.count, again.next_run) == (3, pending + 11_000)


def test_end_date_stops_the_repeat(make_queue):
    q = make_queue()
    start = now_ms() + 60_000
    first = q.add("tick", {}, repeat={"every": 1000, "start_date": start, "end_date": start + 1500})
    assert first is not None and _fire_time(first.id) == start
    rid = q.get_repeatable_jobs()[0].id

    assert [j.id for j in advance(q, rid, now=start)] == [occurrence_id(rid, start + 1000)]
    assert advance(q, rid, now=start + 1000) == []
    finished = q.get_repeatable_jobs()[0]
    assert (finished.next_run, finished.count) == (None, 2)


def test_a_finished_repeat_added_again_stays_finished_unless_its_end_moves(make_queue):
    q = make_queue()
    past = now_ms() - 1

    assert q.add("tick", {}, repeat={"every": 1000, "end_date": past}) is None
    assert q.add("tick", {}, repeat={"every": 1000, "end_date": past}) is None
    assert [(d.next_run, d.count) for d in q.get_repeatable_jobs()] == [(None, 0)]

    revived = q.add("tick", {}, repeat={"every": 1000, "end_date": past + 60_000})
    assert revived is not None and revived.state is JobState.DELAYED
    assert [(d.next_run, d.count) for d in q.get_repeatable_jobs()] == [(_fire_time(revived.id), 1)]


def test_concurrent_fires_of_one_occurrence_create_one_job_and_count_it_once(make_queue):
    q = make_queue()
    first = q.add("tick", {}, repeat={"every": 1000, "limit": 5})
    assert first is not None
    rid, due = q.get_repeatable_jobs()[0].id, _fire_time(first.id)
    barrier = threading.Barrier(8)
    results: list[list[str]] = []

    def fire() -> None:
        barrier.wait()
        results.append([j.id for j in advance(Queue(q.name, settings=q.settings), rid, now=due)])

    threads = [threading.Thread(target=fire) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)

    assert sorted(len(r) for r in results) == [0] * 7 + [1]
    # the pending occurrence and the one the fire added (waiting, not delayed, if its time already came)
    counts = q.get_job_counts("delayed", "waiting")
    assert q.get_repeatable_jobs()[0].count == 2 and counts["delayed"] + counts["waiting"] == 2


def test_every_1000_with_limit_3_runs_exactly_three_times(
    settings, queue_name, worker_process, scheduler_process, client
):
    # Given a worker and a running scheduler
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    scheduler_process()
    q = Queue(queue_name, settings=settings)
    key = unique("runs")

    # When a repeat is added while they run
    first = q.add("count-run", {"key": key}, repeat={"every": 1000, "limit": 3})

    # Then it runs three times, a second apart, and then is finished with nothing pending
    assert first is not None and first.state is JobState.DELAYED
    wait_for(lambda: q.get_repeatable_jobs()[0].next_run is None, 15, message="the repeat finishes")
    wait_for(lambda: q.get_job_counts("waiting", "delayed", "active") == IDLE, 10)
    assert q.get_repeatable_jobs()[0].count == 3
    assert q.get_completed_count() == 3 and _counter(client, key) == 3
    fires = sorted(_fire_time(j.id) for j in q.get_jobs("completed"))
    assert [b - a for a, b in itertools.pairwise(fires)] == [1000, 1000]


def test_two_scheduler_processes_never_double_a_fire(
    settings, queue_name, worker_process, scheduler_process, client
):
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name}, threads=4)
    schedulers = [scheduler_process(), scheduler_process()]
    q = Queue(queue_name, settings=settings)
    key = unique("runs")

    q.add("count-run", {"key": key}, repeat={"every": 250, "limit": 12})

    wait_for(lambda: q.get_repeatable_jobs()[0].next_run is None, 20, message="the repeat finishes")
    wait_for(lambda: q.get_job_counts("waiting", "delayed", "active") == IDLE, 10)
    assert _counter(client, key) == 12 and q.get_completed_count() == 12
    fires = sorted(_fire_time(j.id) for j in q.get_jobs("completed"))
    assert [b - a for a, b in itertools.pairwise(fires)] == [250] * 11
    assert all("Scheduled repeat" in s.log() for s in schedulers)


def test_remove_repeatable_stops_a_running_schedule(
    settings, queue_name, worker_process, in_process_scheduler, client
):
    # Given a repeat that is running every 300 ms
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    scheduler = in_process_scheduler()
    q = Queue(queue_name, settings=settings)
    key = unique("runs")
    q.add("count-run", {"key": key}, repeat={"every": 300})
    wait_for(lambda: _counter(client, key) >= 2, 15, message="two runs")

    # When it is removed
    [definition] = q.get_repeatable_jobs()
    assert q.remove_repeatable(definition.key) is True

    # Then the scheduler lets go, nothing is left to run, and every run was a completed job
    assert q.get_repeatable_jobs() == []
    wait_for(lambda: scheduler.scheduled() == {}, 10, message="the scheduler drops it")
    wait_for(lambda: q.get_job_counts("waiting", "delayed", "active") == IDLE, 10)
    assert _counter(client, key) == q.get_completed_count()
    assert q.remove_repeatable(definition.key) is False


def test_a_scheduler_started_late_runs_the_missed_fires_once_then_resumes(
    settings, queue_name, worker_process, in_process_scheduler, client
):
    # Given a repeat whose first occurrence ran while no scheduler ran, and three more fires went by
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    q = Queue(queue_name, settings=settings)
    key = unique("runs")
    first = q.add("count-run", {"key": key}, repeat={"every": 300})
    assert first is not None
    first.wait_until_finished(15)
    pending = _fire_time(first.id)
    wait_for(lambda: now_ms() > pending + 1000, 5, message="three fires go by")

    # When a scheduler starts
    started = now_ms()
    in_process_scheduler()
    wait_for(lambda: _counter(client, key) >= 4, 15, message="two runs after the catch-up")
    assert q.remove_repeatable(q.get_repeatable_jobs()[0].key)
    wait_for(lambda: q.get_job_counts("waiting", "delayed", "active") == IDLE, 10)

    # Then the missed fires became one run, and the schedule went on from now, every 300 ms
    fires = sorted(_fire_time(j.id) for j in q.get_jobs("completed"))
    assert fires[:2] == [pending, pending + 300]
    assert all(f > started for f in fires[2:])
    assert {b - a for a, b in itertools.pairwise(fires[2:])} <= {300}
    assert _counter(client, key) == len(fires)
