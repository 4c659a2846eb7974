"""The project on a Redis Cluster of 3 masters with a replica each, started for this module.

Every test puts one queue on each master.  The tests that kill a master or move a
slot run last (they change the cluster's shape for whatever follows).
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

import httpx
import pytest
from redis.crc import key_slot

from pipeline import Queue, actor, wiring
from pipeline.devcluster import LocalCluster
from pipeline.errors import PipelineError
from pipeline.events import QueueEvents
from pipeline.job import JobState
from pipeline.keys import QueueKeys, queues_set
from pipeline.scheduler import RepeatScheduler
from pipeline.settings import Settings
from tests.support import WorkerProcess, unique, wait_for

IDLE = {"waiting": 0, "delayed": 0, "active": 0}


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    servers = LocalCluster(masters=3, replicas=1, node_timeout_ms=1000, password="cluster-pw")
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def settings(cluster: LocalCluster) -> Settings:
    """The conftest's fixtures (broker, worker, make_queue) use this: every test runs on the cluster."""
    base = Settings.from_env().replace(lock_duration_ms=1000, stalled_interval_ms=300)
    return cluster.settings(base).replace(namespace=unique("ns"))


def spread_queues(cluster: LocalCluster, namespace: str, per_master: int = 1) -> list[str]:
    """Queue names placed so that each master holds ``per_master`` of them."""
    owners = {}
    for server in cluster.masters():
        for start, end, owner, *_ in server.client.execute_command("CLUSTER SLOTS"):
            owners.update(dict.fromkeys(range(int(start), int(end) + 1), int(owner[1])))
    names: dict[int, list[str]] = {}
    while len(names) < len(cluster.masters()) or any(len(n) < per_master for n in names.values()):
        name = unique("q")
        port = owners[key_slot(QueueKeys.for_queue(namespace, name).wait.encode())]
        if len(names.setdefault(port, [])) < per_master:
            names[port].append(name)
    return [name for group in names.values() for name in group]


@pytest.fixture
def queues(cluster: LocalCluster, settings: Settings) -> Iterator[list[Queue]]:
    made = [Queue(name, settings=settings) for name in spread_queues(cluster, settings.namespace)]
    yield made
    for q in made:
        q.empty()
        q.clean(0, "completed")
        q.clean(0, "failed")


def test_queues_on_every_master_take_jobs_delays_and_priorities_and_one_worker_runs_them_all(
    broker, worker, queues, cluster
):
    ran: list[tuple[str, int]] = []
    for q in queues:

        @actor(queue_name=q.name, job_name="echo", actor_name=f"echo-{q.name}", broker=broker)
        def echo(n: int, queue: str = q.name) -> int:
            ran.append((queue, n))
            return n * 2

    ports = {cluster.master_of(q.store.keys.wait).port for q in queues}
    assert len(ports) == 3, "one queue on each master"
    # Given jobs added while the queues are paused: plain, bulk, delayed, prioritized
    added = {}
    for q in queues:
        q.pause()
        jobs = [q.add("echo", {"n": 1}), *q.add_bulk([{"name": "echo", "data": {"n": i}} for i in (2, 3)])]
        jobs.append(q.add("echo", {"n": 4}, delay=300))
        jobs.append(q.add("echo", {"n": 5}, priority=1))
        added[q.name] = jobs
        assert q.get_job_counts("waiting", "delayed") == {"waiting": 0, "paused": 4, "delayed": 1}
        assert q.get_jobs("waiting", asc=True)[0].id == jobs[4].id, "the prioritized job runs first"
        assert {j.id for j in q.get_jobs()} == {j.id for j in jobs}

    # When one worker serves all of them (blocking for work on each master)
    blocked = {s.port: _blocked(s) for s in cluster.masters()}
    worker(threads=1)
    for server in cluster.masters():
        wait_for(lambda s=server: _blocked(s) > blocked[s.port], 10, message="the worker waiting there")
    for q in queues:
        q.resume()

    # Then every job runs, each queue's prioritized job first, the delayed one last
    for q in queues:
        assert [j.wait_until_finished(15) for j in added[q.name]] == [2, 4, 6, 8, 10]
        mine = [n for name, n in ran if name == q.name]
        assert mine[0] == 5 and mine[-1] == 4
        assert q.get_job_counts() == {**IDLE, "completed": 5, "failed": 0}


def test_rate_limits_events_and_stall_recovery_work_on_a_queue_of_each_master(broker, worker, queues):
    for q in queues:

        @actor(queue_name=q.name, job_name="echo", actor_name=f"echo-{q.name}", broker=broker)
        def echo(n: int) -> int:
            return n

        q.set_rate_limit(2, 500)
    # A job taken by a worker that then vanished: its lock lapses, and a live worker's sweep
    # puts it back.
    stalled = {}
    for q in queues:
        stalled[q.name] = q.add("echo", {"n": -1})
        taken, *_ = q.store.fetch(1, 300)
        assert [t.job_id for t in taken] == [stalled[q.name].id]
    jobs = {q.name: q.add_bulk([{"name": "echo", "data": {"n": i}} for i in range(6)]) for q in queues}
    worker(threads=4)

    for q in queues:
        assert stalled[q.name].wait_until_finished(20) == -1
        assert [j.wait_until_finished(20) for j in jobs[q.name]] == list(range(6))
        events = QueueEvents(q.name, settings=q.settings, last_id="0").read(timeout=0.1, count=10_000)
        names = [e.name for e in events if e.job_id == jobs[q.name][0].id]
        assert names[0] == "waiting" and names[-1] == "completed" and "active" in names
        assert "stalled" in [e.name for e in events if e.job_id == stalled[q.name].id]
        starts = sorted(
            int(fields[b"at"])
            for _, fields in q.client.xrange(q.store.keys.events)
            if fields[b"event"] == b"active"
        )
        assert max(sum(1 for s in starts if t <= s < t + 500) for t in starts) <= 2


def test_repeats_on_every_master_are_fired_by_one_scheduler(queues, settings):
    scheduler = RepeatScheduler(settings=settings, poll_interval_s=0.1).start()
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    thread.start()
    try:
        for q in queues:
            q.add("echo", {}, repeat={"every": 300, "limit": 3})
        # The scheduler adds each next occurrence when the pending one comes due; no worker
        # runs them, so all three wait as jobs.
        for q in queues:
            wait_for(lambda q=q: q.get_repeatable_jobs()[0].next_run is None, 15, message="3 fires")
            assert q.get_job_counts("waiting", "delayed")["waiting"] + q.get_delayed_count() == 3
            assert q.get_repeatable_jobs()[0].count == 3
    finally:
        stop.set()
        thread.join(10)
        scheduler.shutdown()
        for q in queues:
            for definition in q.get_repeatable_jobs():
                q.remove_repeatable(definition.key)


def test_the_api_lists_and_acts_on_queues_of_every_master_and_relays_their_live_events(api, queues):
    # Given a job in a queue on each master, added through the API
    names = [q.name for q in queues]
    first = {}
    for name in names:
        added = api.post(f"/queues/{name}/jobs?create=true", json={"name": "echo", "data": {"n": 1}})
        assert added.status_code == 201, added.text
        first[name] = added.json()["id"]

    # Then the queues and their jobs are listed, whichever master holds them, and acted on
    listed = {q["name"]: q for q in api.get("/queues").json()}
    assert all(listed[name]["counts"]["waiting"] == 1 for name in names), listed
    for name in names:
        assert [j["id"] for j in api.get(f"/queues/{name}/jobs").json()["jobs"]] == [first[name]]
    assert api.post(f"/queues/{names[1]}/pause").status_code == 200 and queues[1].is_paused()

    # And the live feed, following queues on two masters, relays the events of both: those
    # after the position it resumes from and those written while it waits
    followed = names[:2]
    late: list[str] = []
    adder = threading.Timer(0.5, lambda: late.extend(q.add("late", {}).id for q in queues[:2]))
    adder.start()
    try:
        params = {"queues": ",".join(followed), "last_id": urlencode(dict.fromkeys(followed, "0-0"))}
        seen = live_job_ids(api, params, lambda ids: len(late) == 2 and ids >= {*late, *first.values()})
    finally:
        adder.join()
    assert seen[followed[0]] >= {first[followed[0]], late[0]}, seen
    assert seen[followed[1]] >= {first[followed[1]], late[1]}, seen
    assert set(seen) == set(followed), "only the followed queues"


def test_the_api_answers_503_while_a_slot_it_reads_has_no_master_and_serves_again_once_covered(
    api, queues, cluster, settings
):
    # Given the slot of the set of queue names (read directly by every queue route) without a
    # master for a while, as between a master's loss and its replica's promotion
    q = queues[0]
    q.add("echo", {})
    assert api.get("/queues").status_code == 200, "the API's client knows the slot map"
    names_key = queues_set(settings.namespace)
    slot = key_slot(names_key.encode())
    owner = cluster.master_of(names_key)
    for server in cluster.nodes:
        server.client.execute_command("CLUSTER DELSLOTS", slot)
    try:
        # Then the routes answer the one 503 shape naming the cluster, not a 500
        for path in ("/queues", f"/queues/{q.name}/jobs"):
            response = api.get(path)
            assert response.status_code == 503, (path, response.text)
            body = response.json()
            assert body["error"] == "RedisUnavailableError" and "REDIS_CLUSTER_NODES" in body["message"]
        # Also in an API process that starts during the outage (its client is made then)
        wiring.configure(wiring.get_settings())
        assert api.get("/queues").status_code == 503
    finally:
        owner.client.execute_command("CLUSTER ADDSLOTS", slot)
    # And once the slot is served again the same routes answer
    cluster.wait_healthy()
    wait_for(lambda: api.get("/queues").status_code == 200, 15, message="the slot served again")
    assert api.get(f"/queues/{q.name}/jobs").json()["total"] == 1


def live_job_ids(
    api: httpx.Client, params: dict[str, str], done: Callable[[set[str]], bool]
) -> dict[str, set[str]]:
    """The job ids of /live's ``job`` events, by queue, once ``done`` holds for all of them (20 s at most)."""
    seen: dict[str, set[str]] = {}
    deadline = time.monotonic() + 20
    with api.stream("GET", "/live", params=params, timeout=20) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: ") and '"job_id"' in line:
                event = json.loads(line.removeprefix("data: "))
                seen.setdefault(event["queue"], set()).add(event["job_id"])
            if done(set().union(*seen.values())) or time.monotonic() > deadline:
                break
    return seen


class Producer(threading.Thread):
    """Adds jobs to one queue until stopped; keeps the ids whose add returned, counts those that raised."""

    def __init__(self, queue: Queue) -> None:
        super().__init__(daemon=True)
        self.queue = queue
        self.acknowledged: list[str] = []
        self.errors = 0
        self.stop = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                self.acknowledged.append(self.queue.add("slow", {"ms": 5, "i": i}).id)
            except PipelineError:
                self.errors += 1
            time.sleep(0.01)


def start_producers(queues: list[Queue]) -> dict[str, Producer]:
    producers = {q.name: Producer(q) for q in queues}
    for p in producers.values():
        p.start()
    return producers


def stop_producers(producers: dict[str, Producer]) -> None:
    for p in producers.values():
        p.stop.set()
    for p in producers.values():
        p.join(10)


def _completed(q: Queue) -> int:
    try:
        return q.get_completed_count()
    except PipelineError:
        return -1


@pytest.fixture
def spread_worker(settings: Settings) -> Iterator[Callable[[list[Queue]], WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(queues: list[Queue]) -> WorkerProcess:
        env = {
            **settings.redis_env(),
            "PIPELINE_NAMESPACE": settings.namespace,
            "TEST_QUEUES": ",".join(q.name for q in queues),
            "PIPELINE_LOCK_DURATION_MS": "2000",
            "PIPELINE_STALLED_INTERVAL_MS": "500",
        }
        proc = WorkerProcess("tests.apps.spread", env, None, 1, 4)
        started.append(proc)
        return proc.wait_ready()

    yield start
    for proc in started:
        proc.stop()


def test_a_slot_moved_to_another_master_under_load_is_followed_and_fails_no_job(
    cluster, queues, spread_worker
):
    # Given producers and a worker busy on a queue of each master
    proc = spread_worker(queues)
    producers = start_producers(queues)
    moved = queues[0]
    try:
        wait_for(lambda: _completed(moved) >= 20, 20, message="work before the move")
        # When the slot of one queue moves to another master (ASK while its keys migrate,
        # MOVED once it is done)
        source = cluster.master_of(moved.store.keys.wait)
        target = next(s for s in cluster.masters() if s is not source)
        cluster.move_slot(key_slot(moved.store.keys.wait.encode()), target)
        assert cluster.master_of(moved.store.keys.wait) is target
        done = _completed(moved)
        wait_for(lambda: _completed(moved) >= done + 20, 20, message="work after the move")
    finally:
        stop_producers(producers)

    # Then every acknowledged job ran and none failed, and the worker's consumers went on
    for q in queues:
        wait_for(lambda q=q: q.get_job_counts(*IDLE) == IDLE, 30, message=f"{q.name} drained")
        records = q.store.records(producers[q.name].acknowledged)
        assert all(r is not None and r["state"] == JobState.COMPLETED.value for r in records)
        assert q.get_failed_count() == 0
    assert proc.proc.poll() is None
    assert "Restarting consumer" not in proc.log(), "the worker followed the move without reconnecting"


def test_a_master_killed_under_load_is_replaced_by_its_replica_and_the_other_masters_never_stop(
    cluster, queues, spread_worker, record_property
):
    proc = spread_worker(queues)
    pid = proc.proc.pid
    producers = start_producers(queues)
    doomed_queue, *others = queues
    try:
        wait_for(lambda: all(_completed(q) >= 20 for q in queues), 20, message="work before the kill")
        doomed = cluster.master_of(doomed_queue.store.keys.wait)

        # When the master of one queue dies
        doomed.kill(signal.SIGKILL)
        killed_at, killed_ms = time.monotonic(), time.time() * 1000
        promoted = wait_for(
            lambda: next(
                (s for s in cluster.masters() if s is not doomed and _serves(s, doomed_queue)), None
            ),
            30,
            message="the replica promoted",
        )
        failover_s, promoted_ms = time.monotonic() - killed_at, time.time() * 1000
        # Then the dead master's queue resumes on the promoted replica ...
        after = _completed(doomed_queue)
        wait_for(lambda: _completed(doomed_queue) >= after + 20, 30, message="the queue resuming")
    finally:
        stop_producers(producers)

    for q in queues:
        wait_for(lambda q=q: q.get_job_counts(*IDLE) == IDLE, 30, message=f"{q.name} drained")
    lost = {}
    for q in queues:
        records = q.store.records(producers[q.name].acknowledged)
        lost[q.name] = sum(r is None for r in records)
        assert all(r is None or r["state"] == JobState.COMPLETED.value for r in records)
        if q is not doomed_queue:  # ... and the other masters' queues never stopped meanwhile.
            finished = [int(r["finished_on"]) for r in records if r is not None]
            assert any(killed_ms < at < promoted_ms for at in finished), q.name
    print(
        f"\nCluster failover: replica of port {doomed.port} promoted (port {promoted.port}) after "
        f"{failover_s:.1f} s; acknowledged jobs lost on its queue: {lost[doomed_queue.name]} of "
        f"{len(producers[doomed_queue.name].acknowledged)} (no wait_replicas); adds that raised: "
        f"{[p.errors for p in producers.values()]}"
    )
    record_property("acknowledged_lost_on_killed_master", lost[doomed_queue.name])
    assert all(lost[q.name] == 0 for q in others)
    assert proc.proc.poll() is None and proc.proc.pid == pid, "the worker was never restarted"


def _blocked(server) -> int:
    return sum(1 for c in server.client.client_list() if c["cmd"] == "blpop")


def _serves(server, queue: Queue) -> bool:
    slot = key_slot(queue.store.keys.wait.encode())
    return any(
        int(start) <= slot <= int(end) and int(owner[1]) == server.port
        for start, end, owner, *_ in server.client.execute_command("CLUSTER SLOTS")
    )
