"""Direct handoff: a job added to an empty queue goes straight to an idle consumer's inbox.

These drive the store the way a consumer does (fetch, then block on the inbox),
so each step can be observed in Redis between the calls.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable

import pytest

from pipeline import Queue
from pipeline.events import QueueEvents
from pipeline.job import JobState
from pipeline.store import Fetched, QueueStore
from tests.support import local_ports, redis_answers, unique, wait_for

LOCK_MS = 30_000


def _member() -> str:
    return f"{LOCK_MS}|{uuid.uuid4().hex}"


def _go_idle(store: QueueStore, member: str, ttl_ms: int = 10_000) -> None:
    jobs, _, _, registered = store.fetch(4, LOCK_MS, member, ttl_ms)
    assert jobs == [] and registered


def _handed(store: QueueStore, member: str) -> Fetched:
    got = store.wait_for_work(2.0, member)
    assert isinstance(got, Fetched), got
    return got


def test_a_job_added_to_an_empty_queue_arrives_taken_in_the_idle_consumers_inbox(
    make_queue: Callable[..., Queue],
) -> None:
    q = make_queue()
    events = QueueEvents(q.name, settings=q.settings, last_id="0")
    member = _member()
    _go_idle(q.store, member)

    job = q.add("welcome", {"to": "ada@example.com"})

    assert q.get_job(job.id).state is JobState.ACTIVE  # active before any worker asked for it
    got = _handed(q.store, member)
    assert (got.job_id, got.attempts_made) == (job.id, 0)
    assert b'"to":"ada@example.com"' in got.message
    code, _, _ = q.store.complete(got.job_id, got.token, '"ok"', -1, "welcome")
    assert code == 1
    assert q.get_job(job.id).state is JobState.COMPLETED
    names = [e.name for e in events.read(timeout=1) if e.job_id == job.id]
    assert names == ["waiting", "active", "completed"]
    assert q.store.client.zscore(q.store.keys.idle, member) is None  # the handoff ended the registration


def test_only_the_first_of_a_bulk_add_is_handed_over_and_the_rest_keep_their_order(
    make_queue: Callable[..., Queue],
) -> None:
    q = make_queue()
    member = _member()
    _go_idle(q.store, member)

    jobs = q.add_bulk([{"name": "n", "data": {"i": i}} for i in range(4)])

    assert _handed(q.store, member).job_id == jobs[0].id
    assert q.get_job_counts("waiting", "active") == {"waiting": 3, "active": 1}
    taken, _, _, registered = q.store.fetch(10, LOCK_MS, member, 10_000)
    assert [f.job_id for f in taken] == [j.id for j in jobs[1:]] and not registered


def test_a_job_never_jumps_ahead_of_one_already_waiting(make_queue: Callable[..., Queue]) -> None:
    q = make_queue()
    first = q.add("n", {})
    member = _member()
    # A consumer registers only when it found nothing; here it takes the waiting job instead.
    taken, _, _, registered = q.store.fetch(1, LOCK_MS, member, 10_000)
    assert [f.job_id for f in taken] == [first.id] and not registered
    q.add("n", {})
    assert q.get_job_counts("waiting") == {"waiting": 1}
    assert q.store.client.llen(q.store.keys.inbox(member)) == 0


@pytest.mark.parametrize("setting", ["pause", "rate limit", "aging"])
def test_no_handoff_while_the_queue_is_paused_rate_limited_or_aging(
    make_queue: Callable[..., Queue], setting: str
) -> None:
    q = make_queue()
    member = _member()
    _go_idle(q.store, member)
    if setting == "pause":
        q.pause()
    elif setting == "rate limit":
        q.set_rate_limit(5, 1000)
    else:
        q.set_priority_aging(1000)

    job = q.add("n", {})

    assert q.get_job(job.id).state is JobState.WAITING
    assert q.store.client.llen(q.store.keys.inbox(member)) == 0
    # ... and such a queue never registers a consumer in the first place.
    _, _, _, registered = q.store.fetch(0, LOCK_MS, _member(), 10_000)
    assert not registered


def test_a_job_handed_to_a_consumer_that_went_away_goes_back_without_counting_a_stall(
    make_queue: Callable[..., Queue],
) -> None:
    q = make_queue()
    events = QueueEvents(q.name, settings=q.settings, last_id="0")
    member = _member()
    _go_idle(q.store, member, ttl_ms=300)
    job = q.add("n", {})
    assert q.get_job(job.id).state is JobState.ACTIVE  # handed over, never read: the consumer died

    def swept_back() -> bool:
        q.store.reclaim_stalled(max_stalled=0, interval_ms=10)
        return q.get_job(job.id).state is JobState.WAITING

    wait_for(swept_back, 10, message="the lapsed inbox's job back to waiting")
    assert q.store.client.exists(q.store.keys.inbox(member)) == 0
    # max_stalled=0 would have failed it, had it counted as a stall.
    names = [e.name for e in events.read(timeout=1) if e.job_id == job.id]
    assert "stalled" not in names and names[-1] == "waiting"
    taken, _, _, _ = q.store.fetch(1, LOCK_MS, _member(), 10_000)
    assert [(f.job_id, f.attempts_made) for f in taken] == [(job.id, 0)]


def test_a_lapsed_registration_never_receives_a_job(make_queue: Callable[..., Queue]) -> None:
    q = make_queue()
    member = _member()
    _go_idle(q.store, member, ttl_ms=1)
    wait_for(lambda: q.store.client.zscore(q.store.keys.idle, member) is not None, 1)
    wait_for(lambda: q.store.redis_ms() > int(q.store.client.zscore(q.store.keys.idle, member) or 0), 5)

    job = q.add("n", {})

    assert q.get_job(job.id).state is JobState.WAITING
    assert q.store.client.zscore(q.store.keys.idle, member) is None  # reaped on the way
    assert q.store.client.llen(q.store.keys.inbox(member)) == 0


def test_leaving_the_idle_set_returns_what_was_handed_over(make_queue: Callable[..., Queue]) -> None:
    q = make_queue()
    member = _member()
    _go_idle(q.store, member)
    job = q.add("n", {}, priority=3)

    assert q.store.requeue([], member) == 1  # what a consumer does when it closes

    back = q.get_job(job.id)
    assert back.state is JobState.WAITING and back.attempts_made == 0 and back.priority == 3
    assert q.store.client.exists(q.store.keys.inbox(member)) == 0
    assert q.store.client.zscore(q.store.keys.idle, member) is None


def test_a_fetch_also_takes_what_was_handed_over_just_before(make_queue: Callable[..., Queue]) -> None:
    q = make_queue()
    member = _member()
    _go_idle(q.store, member)
    handed = q.add("n", {"i": 1})
    waiting = q.add("n", {"i": 2})

    taken, _, _, _ = q.store.fetch(5, LOCK_MS, member, 10_000)

    assert [f.job_id for f in taken] == [handed.id, waiting.id]
    assert q.store.client.llen(q.store.keys.inbox(member)) == 0


def test_a_completion_with_nothing_left_to_take_registers_the_worker_idle_in_the_same_call(
    make_queue: Callable[..., Queue],
) -> None:
    q = make_queue()
    member = _member()
    first, second = q.add("n", {}), q.add("n", {})
    (held,), _, _, _ = q.store.fetch(1, LOCK_MS, member, 0)

    # Another job waits: the completion takes it, and the worker stays busy.
    code, taken, registered = q.store.complete(
        held.job_id, held.token, "null", -1, "n", "", 1, LOCK_MS, member, 10_000
    )
    assert (code, [f.job_id for f in taken], registered) == (1, [second.id], False)
    # Nothing waits: the worker goes idle, and the next add is handed to it.
    code, taken, registered = q.store.complete(
        taken[0].job_id, taken[0].token, "null", -1, "n", "", 1, LOCK_MS, member, 10_000
    )
    assert (code, taken, registered) == (1, [], True)
    third = q.add("n", {})
    assert _handed(q.store, member).job_id == third.id
    assert first.id == held.job_id


# -- with real workers -------------------------------------------------------------------------


def test_a_local_pause_holds_even_for_a_job_handed_to_the_paused_worker(
    settings, broker, worker, queue_name, client
) -> None:
    from pipeline import actor

    starts = unique("starts")

    @actor(queue_name=queue_name, job_name="record", broker=broker)
    def record(tag: str) -> None:
        client.rpush(starts, tag)

    worker(threads=1)
    q = Queue(queue_name, settings=settings)
    wait_for(lambda: client.zcard(q.store.keys.idle) == 1, 10, message="the worker registered idle")
    q.pause_local()
    try:
        jobs = [q.add("record", {"tag": str(i)}) for i in range(3)]
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline:  # a second of watching: nothing may start
            assert client.llen(starts) == 0
            time.sleep(0.05)
        assert q.get_job_counts("waiting", "active") == {"waiting": 3, "active": 0}
    finally:
        q.resume_local()
    for job in jobs:
        job.wait_until_finished(10)
    assert sorted(client.lrange(starts, 0, -1)) == [b"0", b"1", b"2"]


def test_a_job_handed_to_a_killed_idle_worker_runs_elsewhere_once_without_a_stall(
    settings, queue_name, worker_process, client
) -> None:
    # Lock and sweep both at 30 s: recovery must come from a live worker's fetch finding the
    # dead one's registration lapsed, not from the lock expiring or the periodic sweep.
    env = {
        "TEST_QUEUE": queue_name,
        "PIPELINE_LOCK_DURATION_MS": "30000",
        "PIPELINE_STALLED_INTERVAL_MS": "30000",
    }
    q = Queue(queue_name, settings=settings)
    events = QueueEvents(q.name, settings=settings)
    runs = unique("runs")
    doomed = worker_process("tests.apps.basic", env={**env, "TEST_WORKER_TAG": "A"}, threads=1)
    wait_for(lambda: client.zcard(q.store.keys.idle) == 1, 10, message="the worker registered idle")
    ports = set().union(*(local_ports(pid) for pid in [doomed.proc.pid, *doomed.child_pids()]))
    doomed.kill(signal.SIGKILL)
    # Once Redis has dropped its connections, there is no one to give the inbox to. (A job handed
    # over in the instant between a kill and Redis seeing the connection close is popped and lost
    # with the process, like a fetched one: it comes back as a stall when its lock expires.)
    wait_for(
        lambda: not any(int(c["addr"].rsplit(":", 1)[1]) in ports for c in client.client_list()),
        10,
        message="Redis dropped the killed worker's connections",
    )

    job = q.add("tagged-slow", {"seconds": 0, "key": runs})
    assert q.get_job(job.id).state is JobState.ACTIVE  # handed to the dead worker's inbox

    worker_process("tests.apps.basic", env={**env, "TEST_WORKER_TAG": "B"}, threads=1)
    assert job.wait_until_finished(20) == "B"  # well before the lock expires or a second sweep
    assert client.lrange(runs, 0, -1) == [b"B"]
    assert q.get_job(job.id).attempts_made == 1
    assert client.hget(q.store.keys.job(job.id), "stalled_count") is None
    assert "stalled" not in {e.name for e in events.read(timeout=1, count=1000) if e.job_id == job.id}


def test_jobs_trickling_in_from_three_producers_each_run_exactly_once_on_three_idle_workers(
    settings, queue_name, worker_process, client
) -> None:
    import textwrap
    from concurrent.futures import ThreadPoolExecutor

    from tests.support import run_python

    prefix = unique("runs")
    for _ in range(3):
        worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name}, threads=2)
    q = Queue(queue_name, settings=settings)
    wait_for(lambda: client.zcard(q.store.keys.idle) >= 3, 10, message="the workers registered idle")
    snippet = textwrap.dedent(
        f"""
        import random, time
        from pipeline import Queue
        q = Queue({queue_name!r})
        for i in range(60):
            time.sleep(random.uniform(0, 0.004))  # one at a time, mostly to idle workers
            q.add("count-run", {{"key": "{prefix}:%d:%d" % (PRODUCER, i)}})
        """
    )
    env = {"REDIS_URL": settings.redis_url, "PIPELINE_NAMESPACE": settings.namespace}
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda p: run_python(f"PRODUCER = {p}\n" + snippet, env), range(3)))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]

    wait_for(lambda: q.get_completed_count() == 180, 30, message="all 180 jobs completed")
    assert q.get_job_counts() == {"waiting": 0, "delayed": 0, "active": 0, "completed": 180, "failed": 0}
    runs = [int(client.get(f"{prefix}:{p}:{i}") or 0) for p in range(3) for i in range(60)]
    assert runs == [1] * 180


def test_idle_workers_come_back_after_a_redis_restart_and_take_new_jobs(
    settings, queue_name, tmp_path
) -> None:
    import shutil
    import subprocess

    from tests.support import WorkerProcess, free_port

    port = free_port()
    cmd = [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    cmd += ["--save", "", "--appendonly", "yes", "--dir", str(tmp_path)]

    def start_redis() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: redis_answers(url), 10, message="redis-server up")
        return proc

    url = f"redis://127.0.0.1:{port}/0"
    server = start_redis()
    worker = None
    try:
        local = settings.replace(redis_url=url, redis_explicit=True)
        env = {"REDIS_URL": url, "PIPELINE_NAMESPACE": settings.namespace, "TEST_QUEUE": queue_name}
        worker = WorkerProcess("tests.apps.basic", env, None, 1, 2).wait_ready()
        q = Queue(queue_name, settings=local)
        assert q.add("echo", {"n": 1}).wait_until_finished(20) == {"n": 1}
        wait_for(lambda: q.client.zcard(q.store.keys.idle) == 1, 10, message="the worker registered idle")

        server.terminate()  # a clean shutdown: the append-only file keeps every key
        server.wait(10)
        server = start_redis()

        # Jobs added right after the restart, while the worker reconnects, are not lost either.
        jobs = [q.add("echo", {"n": n}) for n in range(2, 6)]
        assert [job.wait_until_finished(30) for job in jobs] == [{"n": n} for n in range(2, 6)]
        assert q.get_job_counts("waiting", "active", "completed") == {
            "waiting": 0,
            "active": 0,
            "completed": 5,
        }
    finally:
        if worker is not None:
            worker.stop()
        server.terminate()
        server.wait(10)
