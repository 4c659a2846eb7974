"""A worker killed with SIGKILL never leaves a job in two states or none."""

from __future__ import annotations

import signal

from pipeline import Queue
from pipeline.job import JobState
from tests.support import unique, wait_for


def states_holding(q: Queue, job_id: str) -> list[str]:
    """Every state structure that lists ``job_id``, read straight from Redis."""
    k, c = q.store.keys, q.client
    found = []
    if c.lpos(k.wait, job_id) is not None or c.zscore(k.prioritized, job_id) is not None:
        found.append("waiting")
    for state in ("delayed", "active", "completed", "failed"):
        if c.zscore(getattr(k, state), job_id) is not None:
            found.append(state)
    return found


def test_sigkill_mid_job_leaves_every_job_in_exactly_one_state(settings, queue_name, worker_process, client):
    started = unique("started")
    q = Queue(queue_name, settings=settings)
    jobs = q.add_bulk(
        [{"name": "slow", "data": {"seconds": 30, "key": started}} for _ in range(6)]
        + [{"name": "echo", "data": {"i": i}} for i in range(4)]
    )
    worker = worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name}, threads=3)
    wait_for(lambda: client.llen(started) >= 3, 20, message="three slow jobs running")

    worker.kill(signal.SIGKILL)
    worker.proc.wait(10)

    for job in jobs:
        record = q.get_job(job.id)
        assert record is not None, f"job {job.id} lost"
        holding = states_holding(q, job.id)
        assert holding == [record.state.value], (job.id, holding, record.state)
    running = {j.id for j in q.get_jobs("active")}
    assert {i.decode() for i in client.lrange(started, 0, -1)} <= running
    assert all(q.get_job(j.id).state in (JobState.ACTIVE, JobState.WAITING, JobState.COMPLETED) for j in jobs)
