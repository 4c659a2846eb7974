"""A Sentinel set (a master, a replica, 3 Sentinels) started for this module.

The failover test runs last: it kills the master and leaves the set with its replica as master.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator

import dramatiq
import pytest

from pipeline.broker import PipelineBroker
from pipeline.devcluster import LocalSentinelSet, wait_until
from pipeline.errors import PipelineError, ReplicationTimeoutError
from pipeline.job import JobState
from pipeline.queue import Queue
from pipeline.settings import Settings
from tests.support import WorkerProcess, unique, wait_for


@pytest.fixture(scope="module")
def sentinel_set() -> Iterator[LocalSentinelSet]:
    # Passwords on both the servers and the Sentinels: the settings' two passwords reach each.
    servers = LocalSentinelSet(
        down_after_ms=1000, failover_timeout_ms=3000, password="srv-pw", sentinel_password="sentinel-pw"
    )
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def settings(sentinel_set: LocalSentinelSet) -> Settings:
    return sentinel_set.settings(Settings.from_env()).replace(namespace=unique("ns"))


def test_a_queue_behind_sentinels_adds_jobs_on_the_master_and_its_replica_confirms_them(
    sentinel_set, settings
):
    q = Queue(unique("q"), settings=settings, wait_replicas=1)
    job = q.add("echo", {"n": 1})
    jobs = q.add_bulk([{"name": "echo", "data": {"n": i}} for i in range(3)], wait_replicas=0)
    replica = sentinel_set.replicas[0].client
    key = q.store.keys.job(job.id)
    assert replica.exists(key), "a job confirmed with wait_replicas=1 is on the replica when add returns"
    assert q.get_job_counts("waiting") == {"waiting": 4}
    assert {j.id for j in q.get_jobs("waiting")} == {job.id, *(j.id for j in jobs)}
    q.empty()


def test_an_add_that_fewer_replicas_confirm_than_asked_raises_and_names_the_shortfall(settings):
    q = Queue(unique("q"), settings=settings, wait_timeout_ms=100)
    with pytest.raises(ReplicationTimeoutError, match="only 1 of 2 replica") as caught:
        q.add("echo", {"n": 1}, wait_replicas=2)
    assert caught.value.queue == q.name and caught.value.acknowledged == 1
    # The job is on the master all the same: adding it again with its id is safe.
    (job_id,) = caught.value.job_ids
    again = q.add("echo", {"n": 1}, job_id=job_id, wait_replicas=1)
    assert again.id == job_id and q.get_job_counts("waiting") == {"waiting": 1}
    q.empty()


def test_a_default_from_the_settings_applies_to_every_add_and_to_actor_send(settings):
    strict = settings.replace(wait_replicas=2, wait_timeout_ms=100)
    broker = PipelineBroker(settings=strict, middleware=[])
    q = Queue(unique("q"), settings=strict)
    try:

        @dramatiq.actor(queue_name=q.name, broker=broker)
        def work() -> None: ...

        with pytest.raises(ReplicationTimeoutError, match="only 1 of 2"):
            work.send()
        with pytest.raises(ReplicationTimeoutError, match="only 1 of 2"):
            q.add("work")
        assert q.add("work", wait_replicas=1).state is JobState.WAITING
        assert q.get_job_counts("waiting") == {"waiting": 3}
    finally:
        q.empty()
        broker.close()


def blocked_clients(server) -> int:
    """Clients of ``server`` blocked in BLPOP: idle workers waiting there for work."""
    return sum(1 for c in server.client.client_list() if c["cmd"] == "blpop")


def test_an_idle_worker_waits_for_work_on_the_master_and_takes_a_job_handed_to_it(
    sentinel_set, settings, broker, worker
):
    q = Queue(unique("q"), settings=settings)

    @dramatiq.actor(queue_name=q.name, broker=broker)
    def work() -> str:
        return "done"

    master = sentinel_set.current_master()
    before = blocked_clients(master)
    worker(threads=1)
    wait_for(lambda: blocked_clients(master) > before, 10, message="the worker blocked on the master")
    job = q.add("work")
    assert job.wait_until_finished(10) == "done"
    q.clean(0, "completed")


class Producer(threading.Thread):
    """Adds jobs 5 at a time until stopped; keeps the ids whose add returned, counts those that raised."""

    def __init__(self, queue: Queue, wait_replicas: int) -> None:
        super().__init__(daemon=True)
        self.queue, self.wait_replicas = queue, wait_replicas
        self.acknowledged: list[str] = []
        self.errors = 0
        self.stop = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                batch = [{"name": "echo", "data": {"i": i, "n": n}} for n in range(5)]
                jobs = self.queue.add_bulk(batch, wait_replicas=self.wait_replicas)
                self.acknowledged += [job.id for job in jobs]
                time.sleep(0.005)
            except PipelineError:
                self.errors += 1
                time.sleep(0.05)


def test_after_the_master_is_killed_producers_and_workers_go_on_and_no_job_a_replica_confirmed_is_lost(
    sentinel_set, settings, record_property
):
    safe, fast = Queue(unique("safe"), settings=settings), Queue(unique("fast"), settings=settings)
    worker = WorkerProcess(
        "tests.apps.spread",
        {
            **settings.redis_env(),
            "PIPELINE_NAMESPACE": settings.namespace,
            "TEST_QUEUES": f"{safe.name},{fast.name}",
            "PIPELINE_LOCK_DURATION_MS": "2000",
            "PIPELINE_STALLED_INTERVAL_MS": "500",
        },
        None,
        1,
        2,
    )
    producers = [Producer(safe, 1), Producer(fast, 0)]
    try:
        worker.wait_ready()
        pid = worker.proc.pid
        for p in producers:
            p.start()
        wait_for(lambda: all(len(p.acknowledged) >= 50 for p in producers), 20, message="early adds")
        old = sentinel_set.current_master()

        # When: the master dies mid-load, with no chance to flush anything.
        old.kill(signal.SIGKILL)
        killed_at = time.monotonic()
        before = {p.queue.name: len(p.acknowledged) for p in producers}
        wait_until(lambda: sentinel_set.current_master() is not old, 30, "the failover")
        failover_s = time.monotonic() - killed_at
        # The old master comes back empty, as a replica of the new one (as an operator would
        # bring it back; the Sentinels would too, later), so adds can be confirmed again.
        old.start()
        old.client.replicaof(*sentinel_set.current_master().address)
        wait_for(
            lambda: old.client.info("replication").get("master_link_status") == "up", 60, message="resync"
        )
        wait_for(
            lambda: all(len(p.acknowledged) >= before[p.queue.name] + 50 for p in producers),
            30,
            message="adds after the failover",
        )
    finally:
        for p in producers:
            p.stop.set()
            p.join(10)

    try:
        # Then: every job the replica confirmed exists on the new master and runs, by the same worker.
        idle = {"waiting": 0, "active": 0, "delayed": 0}
        for p in producers:
            wait_for(lambda q=p.queue: q.get_job_counts(*idle) == idle, 60, message=f"{p.queue.name} drained")
        lost = {}
        for p in producers:
            records = p.queue.store.records(p.acknowledged)
            lost[p.queue.name] = sum(r is None for r in records)
            states = {r["state"] for r in records if r is not None}
            assert states <= {JobState.COMPLETED.value}, states
        lost_fast, lost_safe = lost[fast.name], lost[safe.name]
        record_property("acknowledged_lost_without_wait", lost_fast)
        print(
            f"\nSentinel failover: {len(producers[1].acknowledged)} jobs acknowledged without "
            f"wait_replicas, {lost_fast} lost; {len(producers[0].acknowledged)} with wait_replicas=1, "
            f"{lost_safe} lost; new master after {failover_s:.1f} s; adds that raised: "
            f"{producers[1].errors} and {producers[0].errors}"
        )
        assert lost_safe == 0
        assert worker.proc.poll() is None and worker.proc.pid == pid, "the worker was never restarted"
    finally:
        worker.stop()
        for p in producers:
            p.queue.clean(0, "completed")
            p.queue.clean(0, "failed")
