"""The API's job routes: add, list, search, read, logs and the per-job actions (admin token)."""

from __future__ import annotations

from pipeline.queue import Queue


def test_a_job_is_added_listed_read_cancelled_retried_and_removed(api, queue_name):
    q = Queue(queue_name)
    added = api.post(
        f"/queues/{queue_name}/jobs?create=true", json={"name": "welcome", "data": {"user_id": 1}}
    )
    assert added.status_code == 201
    job_id = added.json()["id"]
    q.add("later", {}, delay=60_000)

    waiting = api.get(f"/queues/{queue_name}/jobs", params={"state": "waiting"}).json()
    assert [j["id"] for j in waiting["jobs"]] == [job_id] and waiting["total"] == 1
    assert api.get(f"/queues/{queue_name}/jobs/{job_id}").json()["data"] == {"user_id": 1}

    cancelled = api.post(f"/queues/{queue_name}/jobs/{job_id}/cancel", json={"reason": "from the dashboard"})
    assert cancelled.json()["stopped"] is True
    assert q.get_job(job_id).failed_reason == "from the dashboard"
    assert api.post(f"/queues/{queue_name}/jobs/{job_id}/retry").json() == {"message": "Job retry initiated"}
    assert q.get_job(job_id).state == "waiting"
    assert api.delete(f"/queues/{queue_name}/jobs/{job_id}").json() == {"message": "Job removed"}
    assert q.get_job(job_id) is None


def test_job_pages_are_capped_and_carry_totals(api, queue_name, configured):
    q = Queue(queue_name)
    q.add_bulk([{"name": "n", "data": {"i": i}} for i in range(23)])

    first = api.get(f"/queues/{queue_name}/jobs", params={"page_size": 10}).json()
    assert (first["total"], first["pages"], len(first["jobs"])) == (23, 3, 10)
    last = api.get(f"/queues/{queue_name}/jobs", params={"page_size": 10, "page": 3}).json()
    assert [j["data"]["i"] for j in last["jobs"]] == [2, 1, 0]  # newest first: the oldest are last
    oldest = api.get(f"/queues/{queue_name}/jobs", params={"page_size": 10, "asc": "true"}).json()
    assert oldest["jobs"][0]["data"]["i"] == 0

    cap = configured.api_page_size_max
    too_big = api.get(f"/queues/{queue_name}/jobs", params={"page_size": cap + 1})
    assert too_big.status_code == 400 and str(cap) in too_big.json()["message"]
    assert too_big.json()["field"] == "page_size"


def test_search_looks_through_a_bounded_window_and_says_how_far(api, queue_name):
    q = Queue(queue_name)
    q.add_bulk([{"name": "mail" if i % 2 else "sms", "data": {"user": f"u{i % 7}"}} for i in range(30)])

    found = api.get(
        f"/queues/{queue_name}/jobs/search",
        params={"field": "user", "value": "u3", "window": 20, "asc": "true"},
    ).json()
    assert (found["scanned_from"], found["scanned_to"], found["next_cursor"], found["total"]) == (
        0,
        20,
        20,
        30,
    )
    assert {j["data"]["user"] for j in found["matches"]} == {"u3"}
    assert len(found["matches"]) == 3  # u3 at i = 3, 10, 17 in the first 20
    rest = api.get(
        f"/queues/{queue_name}/jobs/search",
        params={"field": "user", "value": "u3", "name": "sms", "cursor": 20, "window": 20, "asc": "true"},
    ).json()
    assert rest["next_cursor"] is None and rest["scanned_to"] == 30
    assert [j["name"] for j in rest["matches"]] == ["sms"]  # u3 at i = 24 only, an even i: sms
    too_wide = api.get(f"/queues/{queue_name}/jobs/search", params={"name": "x", "window": 100_000})
    assert too_wide.status_code == 422
    assert api.get(f"/queues/{queue_name}/jobs/search").status_code == 400


def test_a_job_reads_with_its_timeline_logs_and_due_time(api, queue_name):
    q = Queue(queue_name)
    job = q.add("report", {"id": 7}, delay=60_000, priority=3)
    for i in range(150):
        q.add_job_log(job.id, f"line {i}")

    detail = api.get(f"/queues/{queue_name}/jobs/{job.id}").json()
    assert detail["state"] == "delayed" and detail["priority"] == 3
    assert detail["delayed_until"] >= detail["timestamp"] + 59_000
    assert detail["log_total"] == 150 and detail["logs"][0] == "line 50" and detail["logs"][-1] == "line 149"
    page = api.get(f"/queues/{queue_name}/jobs/{job.id}/logs", params={"start": 140, "count": 100}).json()
    assert page == {"start": 140, "total": 150, "logs": [f"line {i}" for i in range(140, 150)]}

    assert api.post(f"/queues/{queue_name}/jobs/{job.id}/promote").json() == {"message": "Job promoted"}
    assert q.get_job(job.id).state == "waiting"
    again = api.post(f"/queues/{queue_name}/jobs/{job.id}/promote")
    assert again.status_code == 409
