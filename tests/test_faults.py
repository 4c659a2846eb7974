"""Faults an operator meets on a bad day: dropped connections, a Redis restart, a dead worker.

Each fault test runs its own redis-server (stopped, restarted or with its clients killed
without touching anyone else's Redis) and worker processes with short locks (2 s), so a
lapsed lock shows within seconds.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest
import redis

from pipeline.events import QueueEvents
from pipeline.job import JobState
from pipeline.queue import Queue
from pipeline.settings import Settings
from tests.support import RedisServer, unique, wait_for

LOCK = {"PIPELINE_LOCK_DURATION_MS": "2000", "PIPELINE_STALLED_INTERVAL_MS": "1000"}


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    server = RedisServer(aof=True)
    yield server
    server.close()


@pytest.fixture
def on_private(settings: Settings, private_redis: RedisServer) -> Settings:
    return settings.replace(redis_url=private_redis.url)


def _env(server: RedisServer, queue_name: str, tag: str, **extra: str) -> dict[str, str]:
    return {"REDIS_URL": server.url, "TEST_QUEUE": queue_name, "TEST_WORKER_TAG": tag, **LOCK, **extra}


def _runs(client: redis.Redis, key: str, n: int) -> list[list[bytes]]:
    return [client.lrange(f"{key}:{i}", 0, -1) for i in range(n)]


def test_killing_every_worker_connection_while_long_jobs_run_runs_each_job_exactly_once(
    on_private, private_redis, worker_process, queue_name
):
    # Given six long jobs running on a worker with a 2 s lock
    q = Queue(queue_name, settings=on_private)
    admin = redis.Redis.from_url(private_redis.url)
    runs = unique("runs")
    events = QueueEvents(queue_name, settings=on_private)
    worker = worker_process("tests.apps.basic", env=_env(private_redis, queue_name, "A"), threads=6)
    jobs = [q.add("tagged-slow", {"seconds": 8, "key": f"{runs}:{i}"}) for i in range(6)]
    wait_for(lambda: all(len(r) == 1 for r in _runs(admin, runs, 6)), 20, message="6 jobs running")

    # When every client connection is killed, twice, while they run
    for _ in range(2):
        assert admin.execute_command("CLIENT", "KILL", "TYPE", "normal") > 0
        wait_for(lambda: q.get_job_counts("active")["active"] == 6, 10, message="still active")
        time.sleep(1.5)  # the fault's spacing: past half a lock, so a lost renewal would show

    # Then each job completes, having run exactly once, and none stalled
    for job in jobs:
        assert job.wait_until_finished(30) == "A"
    assert _runs(admin, runs, 6) == [[b"A"]] * 6
    names = [e.name for e in events.read(timeout=1, count=10_000)]
    assert "stalled" not in names and "failed" not in names
    assert "Traceback" not in worker.log()


def test_a_redis_restart_longer_than_the_lock_runs_no_live_workers_job_twice_and_fails_none(
    on_private, private_redis, worker_process, queue_name
):
    # Given a worker running six long jobs with six more waiting, on a Redis that keeps an AOF
    q = Queue(queue_name, settings=on_private)
    runs = unique("runs")
    worker_process("tests.apps.basic", env=_env(private_redis, queue_name, "A"), threads=6)
    jobs = [q.add("tagged-slow", {"seconds": 6, "key": f"{runs}:{i}"}) for i in range(12)]

    def running() -> bool:
        return sum(len(r) for r in _runs(redis.Redis.from_url(private_redis.url), runs, 12)) >= 6

    wait_for(running, 20, message="6 jobs running")

    # When Redis is down for twice the lock duration, then comes back with its data
    private_redis.stop()
    time.sleep(4)  # the fault itself: Redis down for twice the lock duration
    private_redis.start()

    # Then every job completes, none failed as stalled, and none ran twice
    for job in jobs:
        assert job.wait_until_finished(60) == "A", q.get_job(job.id)
    client = redis.Redis.from_url(private_redis.url)
    assert _runs(client, runs, 12) == [[b"A"]] * 12
    assert all(q.get_job(job.id).state is JobState.COMPLETED for job in jobs)
    names = [e.name for e in QueueEvents(queue_name, settings=on_private, last_id="0").read(1, 10_000)]
    assert "failed" not in names and "stalled" not in names
    assert names.count("completed") == 12


@pytest.fixture
def cleanup(settings: Settings, client: redis.Redis) -> Iterator[None]:
    """Deletes the test's namespace on the shared Redis (ask for it before the workers)."""
    yield
    for key in client.scan_iter(match=f"{settings.namespace}:*", count=1000):
        client.delete(key)


def test_a_killed_workers_jobs_come_back_within_lock_and_interval_after_a_slower_worker_swept(
    cleanup, settings, worker_process, queue_name, client
):
    # Given a worker with a 30 s stalled interval that has swept the queue and gone
    runs = unique("runs")
    q = Queue(queue_name, settings=settings)
    env = {"TEST_QUEUE": queue_name, "PIPELINE_LOCK_DURATION_MS": "2000"}
    slow = worker_process("tests.apps.basic", env={**env, "TEST_WORKER_TAG": "S"})
    wait_for(lambda: client.exists(q.store.keys.stall_guard), 20, message="slow worker swept")
    slow.stop()
    # ... and a worker B (1 s interval) alive while worker A runs three long jobs
    fast = {**env, "PIPELINE_STALLED_INTERVAL_MS": "1000"}
    doomed = worker_process("tests.apps.basic", env={**fast, "TEST_WORKER_TAG": "A"}, threads=3)
    jobs = [q.add("tagged-slow", {"seconds": 30, "key": f"{runs}:{i}"}) for i in range(3)]
    wait_for(lambda: all(len(r) == 1 for r in _runs(client, runs, 3)), 20, message="3 jobs running on A")
    worker_process("tests.apps.basic", env={**fast, "TEST_WORKER_TAG": "B"}, threads=3)

    # When A is killed
    doomed.kill(signal.SIGKILL)
    killed_at = time.monotonic()

    # Then B starts all three again within lock (2 s) + interval (1 s), plus slack for a busy machine
    wait_for(lambda: all(len(r) == 2 for r in _runs(client, runs, 3)), 15, message="B took them")
    assert time.monotonic() - killed_at < 2 + 1 + 6
    assert _runs(client, runs, 3) == [[b"A", b"B"]] * 3
    for job in jobs:
        job.cancel("test over")


def test_a_worker_with_redis_down_logs_little_and_exits_within_its_shutdown_timeout(
    on_private, private_redis, worker_process, queue_name
):
    # Given a worker running two jobs
    q = Queue(queue_name, settings=on_private)
    runs = unique("runs")
    worker = worker_process("tests.apps.basic", env=_env(private_redis, queue_name, "A"), threads=2)
    for i in range(2):
        q.add("tagged-slow", {"seconds": 60, "key": f"{runs}:{i}"})
    admin = redis.Redis.from_url(private_redis.url)
    wait_for(lambda: all(len(r) == 1 for r in _runs(admin, runs, 2)), 20, message="2 jobs running")

    # When Redis stays down for 30 s
    lines_before = len(worker.output)
    private_redis.stop()
    down_at = time.monotonic()
    wait_for(lambda: time.monotonic() - down_at >= 30, 40, interval=0.5, message="30 s outage")

    # Then the worker wrote fewer than 50 lines, with no traceback, and a SIGTERM ends it in time
    during = worker.output[lines_before:]
    assert len(during) < 50, "".join(during)
    assert "Traceback" not in "".join(during)
    worker.kill(signal.SIGTERM)
    stopped_at = time.monotonic()
    worker.proc.wait(30)
    assert time.monotonic() - stopped_at < 5 + 10  # --worker-shutdown-timeout 5000, plus slack
