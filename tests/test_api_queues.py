"""The API's queue routes: listing, metrics, pause, queue-wide actions, rate limits (admin token)."""

from __future__ import annotations

from pipeline.keys import queues_set
from pipeline.queue import Queue


def test_queues_are_listed_with_their_counts_and_metrics(api, queue_name):
    q = Queue(queue_name)
    q.add("welcome", {"user_id": 1})
    q.add("later", {}, delay=60_000)

    listed = {entry["name"]: entry for entry in api.get("/queues").json()}
    assert listed[queue_name]["counts"]["waiting"] == 1
    assert api.get(f"/queues/{queue_name}/metrics").json()["counts"]["delayed"] == 1


def test_a_queue_is_paused_and_resumed(api, queue_name):
    q = Queue(queue_name)
    q.add("welcome", {})

    assert api.post(f"/queues/{queue_name}/pause").json() == {"message": "Queue paused"}
    assert q.is_paused()
    assert api.post(f"/queues/{queue_name}/resume").status_code == 200 and not q.is_paused()


def test_reads_and_adds_never_create_a_queue_unless_asked(api, queue_name, configured, client):
    assert api.get(f"/queues/{queue_name}/jobs").status_code == 404
    refused = api.post(f"/queues/{queue_name}/jobs", json={"name": "x"})
    assert refused.status_code == 404 and "not found" in refused.json()["message"]
    assert not client.sismember(queues_set(configured.namespace), queue_name)
    assert (
        api.post(f"/queues/{queue_name}/jobs", params={"create": "true"}, json={"name": "x"}).status_code
        == 201
    )
    assert client.sismember(queues_set(configured.namespace), queue_name)


def test_queue_actions_clean_and_empty_report_what_they_did(api, queue_name):
    q = Queue(queue_name)
    q.add_bulk([{"name": "x"} for _ in range(3)])
    q.add("later", {}, delay=60_000)
    emptied = api.delete(f"/queues/{queue_name}/waiting").json()
    assert emptied["removed"] == 4 and "4" in emptied["message"]
    assert q.get_job_counts("waiting", "delayed") == {"waiting": 0, "delayed": 0}
    cleaned = api.delete(f"/queues/{queue_name}/clean", params={"status": "failed", "grace": 0}).json()
    assert cleaned["removed"] == 0


def test_clean_takes_its_grace_in_ms_under_its_new_or_its_deprecated_name(api, queue_name):
    q = Queue(queue_name)
    for job in [q.add("x", {}) for _ in range(2)]:
        q.cancel_job(job.id, "failed for the test")
    path = f"/queues/{queue_name}/clean"

    for name in ("grace_ms", "grace"):
        kept = api.delete(path, params={"status": "failed", name: 3_600_000}).json()
        assert kept["removed"] == 0
    both = api.delete(path, params={"status": "failed", "grace_ms": 0, "grace": 0})
    assert both.status_code == 400 and both.json()["field"] == "grace"
    assert api.delete(path, params={"status": "failed", "grace_ms": 0}).json()["removed"] == 2


def test_bulk_actions_report_what_they_did_and_a_busy_queue_is_removed_only_when_forced(api, queue_name):
    q = Queue(queue_name)
    for _ in range(3):
        q.add("later", {}, delay=3_600_000)
    for job in [q.add("x", {}) for _ in range(2)]:
        q.cancel_job(job.id, "failed for the test")

    promoted = api.post(f"/queues/{queue_name}/promote-all").json()
    assert promoted["promoted"] == 3 and "3" in promoted["message"]
    retried = api.post(f"/queues/{queue_name}/retry-failed").json()
    assert retried["retried"] == 2 and q.get_job_counts("waiting", "failed", "delayed") == {
        "waiting": 5,
        "failed": 0,
        "delayed": 0,
    }

    q.store.fetch(1, 60_000, "", 0)  # a worker holds one job now
    busy = api.delete(f"/queues/{queue_name}")
    assert busy.status_code == 409 and busy.json()["error"] == "QueueBusyError" and busy.json()["active"] == 1
    removed = api.delete(f"/queues/{queue_name}", params={"force": "true"}).json()
    assert removed["removed"] == 5
    assert api.get(f"/queues/{queue_name}/jobs").status_code == 404
    assert queue_name not in {entry["name"] for entry in api.get("/queues").json()}


def test_rate_limits_are_set_checked_and_removed(api, queue_name):
    q = Queue(queue_name)
    q.add("x", {})

    limit = api.put(f"/queues/{queue_name}/rate-limit", json={"max": 5, "duration": 1000}).json()
    assert limit["rate_limit"]["max"] == 5 and q.get_rate_limit()["duration"] == 1000
    assert api.put(f"/queues/{queue_name}/rate-limit", json={"max": 0, "duration": 1000}).status_code == 422
    assert api.delete(f"/queues/{queue_name}/rate-limit").status_code == 200 and q.get_rate_limit() is None
