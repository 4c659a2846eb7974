"""Records no worker can run fail at once with their reason; nothing else is disturbed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis

from pipeline.events import QueueEvents
from pipeline.job import JobState
from pipeline.queue import Queue
from pipeline.settings import Settings
from tests.support import unique, wait_for


def message(queue_name: str, job_id: str, **fields: object) -> dict[str, object]:
    return {
        "queue_name": queue_name,
        "actor_name": "count-run",
        "args": [],
        "kwargs": {"key": "unused"},
        "options": {},
        "message_id": job_id,
        "message_timestamp": 1,
        **fields,
    }


def no_actor(queue_name: str, job_id: str) -> bytes:
    fields = message(queue_name, job_id)
    del fields["actor_name"]
    return b"w" + json.dumps(fields).encode()


#: kind -> (how to write the record, what its failure says)
BAD_RECORDS = {
    "bad-json": (lambda q, i: b'w{"queue_name": "' + q.encode() + b'", "actor_name": ', "not valid JSON"),
    "bad-utf8": (
        lambda q, i: b"w" + json.dumps(message(q, i)).encode().replace(b"unused", b"\xff\xfeun"),
        "not valid UTF-8",
    ),
    "no-actor": (no_actor, "has no 'actor_name'"),
    "too-deep": (lambda q, i: b'w{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nests too deeply"),
    "wrong-args": (
        lambda q, i: b"w" + json.dumps(message(q, i, args="not a list")).encode(),
        "'args' is str, not a list",
    ),
    "not-pending": (lambda q, i: b"7 not a pending record", "not in the pending job format"),
    "a-set": (None, "a Redis set, not a job"),
}


@pytest.fixture
def cleanup(settings: Settings, client: redis.Redis) -> Iterator[None]:
    yield
    for key in client.scan_iter(match=f"{settings.namespace}:*", count=1000):
        client.delete(key)


def plant(client: redis.Redis, q: Queue) -> dict[str, str]:
    """Write one record of each bad kind and queue its id; returns kind -> job id."""
    ids = {}
    for kind, (write, _) in BAD_RECORDS.items():
        job_id = unique(kind)
        key = q.store.keys.job(job_id)
        if write is None:
            client.sadd(key, "something else's set")
        else:
            client.set(key, write(q.name, job_id))
        client.lpush(q.store.keys.wait, job_id)
        ids[kind] = job_id
    return ids


def test_unreadable_records_fail_at_once_with_their_reasons_and_50_good_jobs_run_once_each(
    settings, queue_name, worker_process, client, cleanup
):
    # Given five-plus kinds of unreadable records queued between 50 good jobs
    q = Queue(queue_name, settings=settings)
    runs = unique("runs")
    good = [q.add("count-run", {"key": f"{runs}:{i}"}) for i in range(25)]
    bad = plant(client, q)
    good += [q.add("count-run", {"key": f"{runs}:{i}"}) for i in range(25, 50)]
    events = QueueEvents(queue_name, settings=settings)

    # When a worker (several jobs per fetch) takes them
    worker = worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name}, threads=4)

    # Then every good job runs exactly once and every bad one fails with its reason, never stalling
    for job in good:
        assert job.wait_until_finished(30) == 1
    assert [int(client.get(f"{runs}:{i}") or 0) for i in range(50)] == [1] * 50
    for kind, job_id in bad.items():
        job = wait_for(lambda job_id=job_id: _failed(q, job_id), 10, message=f"{kind} failed")
        assert BAD_RECORDS[kind][1] in (job.failed_reason or ""), (kind, job.failed_reason)
        assert job.unreadable, kind
    seen = events.read(timeout=1, count=10_000)
    assert not [e for e in seen if e.name == "stalled"]
    assert {e.job_id for e in seen if e.name == "failed"} == set(bad.values())
    assert q.get_job_counts("failed", "active", "waiting") == {"failed": 7, "active": 0, "waiting": 0}
    # ... and the consumer loop never broke
    assert "Restarting consumer" not in worker.log()
    assert "encountered" not in worker.log()


def _failed(q: Queue, job_id: str):
    job = q.get_job(job_id)
    return job if job is not None and job.state is JobState.FAILED else None


def test_reading_unreadable_records_returns_them_marked_and_never_breaks_other_reads(
    configured, queue_name, client, api, cleanup
):
    q = Queue(queue_name)
    first = q.add("echo", {"n": 1})
    bad = plant(client, q)
    last = q.add("echo", {"n": 2})

    for kind, job_id in bad.items():
        job = q.get_job(job_id)
        assert job is not None and job.unreadable, kind
        assert job.data == {} and job.name == ""
    assert "\ufffd" in q.get_job(bad["bad-utf8"]).raw_message  # undecodable bytes shown replaced
    assert q.get_job(bad["not-pending"]).raw_message == "7 not a pending record"
    listed = {job.id: job for job in q.get_jobs("waiting")}
    assert set(listed) == {first.id, last.id, *bad.values()}
    assert listed[first.id].data == {"n": 1} and listed[last.id].data == {"n": 2}
    assert q.get_job_counts("waiting")["waiting"] == 2 + len(bad)

    # The API lists them and shows each with its raw text and the decode error
    page = api.get(f"/queues/{queue_name}/jobs", params={"state": "waiting"})
    assert page.status_code == 200
    assert {entry["id"] for entry in page.json()["jobs"]} >= set(bad.values())
    one = api.get(f"/queues/{queue_name}/jobs/{bad['bad-json']}")
    assert one.status_code == 200
    assert "not valid JSON" in one.json()["unreadable"]
    assert one.json()["raw_message"].startswith('{"queue_name"')
