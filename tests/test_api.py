"""The management API and dashboard, served by a real HTTP server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from pipeline.api import create_app
from pipeline.queue import Queue
from tests.support import free_port, wait_for


@pytest.fixture
def api(configured) -> Iterator[httpx.Client]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 10, message="API server up")
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        yield client
    server.should_exit = True
    thread.join(10)


def test_the_api_lists_queues_jobs_and_manages_them(api, queue_name):
    q = Queue(queue_name)
    added = api.post(f"/queues/{queue_name}/jobs", json={"name": "welcome", "data": {"user_id": 1}})
    assert added.status_code == 201
    job_id = added.json()["id"]
    q.add("later", {}, delay=60_000)

    listed = {entry["name"]: entry for entry in api.get("/queues").json()}
    assert listed[queue_name]["counts"]["waiting"] == 1
    assert api.get(f"/queues/{queue_name}/metrics").json()["counts"]["delayed"] == 1
    waiting = api.get(f"/queues/{queue_name}/jobs", params={"state": "waiting"}).json()
    assert [j["id"] for j in waiting] == [job_id]
    assert api.get(f"/queues/{queue_name}/jobs/{job_id}").json()["data"] == {"user_id": 1}

    assert api.post(f"/queues/{queue_name}/pause").json() == {"message": "Queue paused"}
    assert q.is_paused()
    assert api.post(f"/queues/{queue_name}/resume").status_code == 200 and not q.is_paused()

    cancelled = api.post(f"/queues/{queue_name}/jobs/{job_id}/cancel", json={"reason": "from the dashboard"})
    assert cancelled.json()["stopped"] is True
    assert q.get_job(job_id).failed_reason == "from the dashboard"
    assert api.post(f"/queues/{queue_name}/jobs/{job_id}/retry").json() == {"message": "Job retry initiated"}
    assert q.get_job(job_id).state == "waiting"
    assert api.delete(f"/queues/{queue_name}/jobs/{job_id}").json() == {"message": "Job removed"}
    assert q.get_job(job_id) is None


def test_api_errors_are_statuses_with_a_message(api, queue_name):
    Queue(queue_name).add("x", {})
    missing_queue = api.get("/queues/no-such-queue/jobs")
    assert missing_queue.status_code == 404 and "no-such-queue" in missing_queue.json()["message"]
    missing_job = api.get(f"/queues/{queue_name}/jobs/nope")
    assert missing_job.status_code == 404 and "nope" in missing_job.json()["message"]
    bad = api.post(f"/queues/{queue_name}/jobs", json={"name": "x", "data": {}, "opts": {"attempts": 0}})
    assert bad.status_code == 400 and "attempts" in bad.json()["message"]
    waiting_id = api.get(f"/queues/{queue_name}/jobs").json()[0]["id"]
    conflict = api.post(f"/queues/{queue_name}/jobs/{waiting_id}/retry")
    assert conflict.status_code == 409
    assert api.get(f"/queues/{queue_name}/jobs", params={"state": "bogus"}).status_code == 422


def test_the_dashboard_page_is_served(api):
    page = api.get("/")
    assert page.status_code == 200 and "<title>Queues</title>" in page.text
    assert "textContent" in page.text and "innerHTML" not in page.text
