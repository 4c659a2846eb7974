"""Progress, lifecycle events from any process, local listeners."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from pipeline import Queue, actor, current_job
from pipeline.events import QueueEvents
from pipeline.listeners import clear, on
from tests.support import ROOT, wait_for


def _reader(settings, queue_name: str, job_id: str, last_id: str = "$") -> subprocess.Popen[str]:
    code = textwrap.dedent(
        f"""
        import json, sys
        from pipeline.events import QueueEvents
        events = QueueEvents({queue_name!r}, last_id={last_id!r})
        print("ready", flush=True)
        for event in events:
            print(json.dumps([event.id, event.name, event.job_id, event.payload]), flush=True)
            if event.job_id == {job_id!r} and event.name in ("completed", "failed"):
                break
        """
    )
    env = {"REDIS_URL": settings.redis_url, "PIPELINE_NAMESPACE": settings.namespace, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**__import__("os").environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_progress_shows_everywhere_and_a_reader_in_another_process_sees_every_event(
    settings, queue_name, worker_process
):
    # Given a reader in a third process, listening before the job exists
    q = Queue(queue_name, settings=settings)
    job_id = "progress-job"
    reader = _reader(settings, queue_name, job_id)
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})

    # When a handler reports 25/50/75/100
    job = q.add("progress", {"steps": [25, 50, 75, 100]}, job_id=job_id)
    assert job.wait_until_finished(20) == "done"

    # Then the record shows 100 and the reader got the events in order
    assert q.get_job(job_id).progress == 100
    out, _ = reader.communicate(timeout=20)
    events = [json.loads(line) for line in out.splitlines()]
    mine = [(name, payload) for _, name, jid, payload in events if jid == job_id]
    names = [name for name, _ in mine]
    assert names == ["waiting", "active", "progress", "progress", "progress", "progress", "completed"]
    assert [p["data"] for n, p in mine if n == "progress"] == [25, 50, 75, 100]
    assert mine[-1][1]["result"] == "done"


def test_a_reader_killed_mid_stream_and_restarted_from_its_last_id_misses_nothing(
    settings, queue_name, worker_process
):
    q = Queue(queue_name, settings=settings)
    q.add("echo", {"before": True})  # history the reader must not replay
    first = _reader(settings, queue_name, "never-finishes")
    stream_start = q.client.xrevrange(q.store.keys.events, count=1)[0][0].decode()
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    for job in [q.add("progress", {"steps": [10, 20]}) for _ in range(3)]:
        job.wait_until_finished(20)

    # The reader dies mid-stream, after printing some events
    printed = [json.loads(first.stdout.readline()) for _ in range(4)]
    first.kill()
    first.wait()
    last_id = printed[-1][0]

    # More happens while no reader runs
    for job in [q.add("progress", {"steps": [30]}) for _ in range(2)]:
        job.wait_until_finished(20)
    q.add("echo", {"x": 1}, job_id="final").wait_until_finished(20)

    restarted = QueueEvents(queue_name, last_id=last_id, settings=settings)
    resumed = restarted.wait_for(lambda e: e.job_id == "final" and e.name == "completed", 20)
    everything = [i.decode() for i, _ in q.client.xrange(q.store.keys.events, min="(" + stream_start)]
    assert [p[0] for p in printed] + [e.id for e in resumed] == everything


def test_local_listeners_run_in_the_worker_and_cannot_change_the_outcome(
    broker, worker, queue_name, settings
):
    seen: list[tuple[str, object]] = []

    @actor(queue_name=queue_name, job_name="ok", broker=broker)
    def ok() -> int:
        current_job().update_progress(50)
        return 7

    @actor(queue_name=queue_name, job_name="bad", broker=broker)
    def bad() -> None:
        raise RuntimeError("bad job")

    @on(queue_name, "active")
    def on_active(job):
        seen.append(("active", job.name))

    @on(queue_name, "progress")
    def on_progress(job, progress):
        seen.append(("progress", progress))

    @on(queue_name, "completed")
    def on_completed(job, result):
        seen.append(("completed", (job.name, result)))
        raise ValueError("a broken listener")

    @on(queue_name, "failed")
    def on_failed(job, error):
        seen.append(("failed", (job.name, str(error))))
        raise ValueError("another broken listener")

    try:
        worker(threads=1)
        q = Queue(queue_name, settings=settings)
        assert q.add("ok", {}).wait_until_finished(10) == 7
        bad_job = q.add("bad", {})
        wait_for(lambda: q.get_job(bad_job.id).state == "failed", 10)
        wait_for(lambda: ("failed", ("bad", "bad job")) in seen, 5)
        assert ("active", "ok") in seen and ("progress", 50) in seen
        assert ("completed", ("ok", 7)) in seen
        assert q.get_job_counts("completed", "failed") == {"completed": 1, "failed": 1}
    finally:
        clear()


def test_a_local_waiting_listener_hears_each_job_this_process_adds_waiting(broker, queue_name, settings):
    heard: list[str] = []

    @actor(queue_name=queue_name, job_name="noop", broker=broker)
    def noop() -> None: ...

    on(queue_name, "waiting")(heard.append)
    q = Queue(queue_name, settings=settings)
    try:
        # Given jobs added waiting by every way in, one delayed and one with a taken id
        first = q.add("noop", {}, job_id="taken")
        q.add("noop", {}, job_id="taken")
        q.add("noop", {}, delay=60_000)
        bulk = q.add_bulk([{"name": "noop"}, {"name": "noop", "opts": {"delay": 60_000}}])
        sent = noop.send()
        # Then the listener heard of exactly the jobs created waiting, once each
        assert heard == [first.id, bulk[0].id, sent.message_id]
    finally:
        clear()
        q.obliterate(force=True)
