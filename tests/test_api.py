"""The management API, served by a real HTTP server on loopback (admin token unless said)."""

from __future__ import annotations

import re

from pipeline.queue import Queue


def test_the_api_lists_queues_jobs_and_manages_them(api, queue_name):
    q = Queue(queue_name)
    added = api.post(
        f"/queues/{queue_name}/jobs?create=true", json={"name": "welcome", "data": {"user_id": 1}}
    )
    assert added.status_code == 201
    job_id = added.json()["id"]
    q.add("later", {}, delay=60_000)

    listed = {entry["name"]: entry for entry in api.get("/queues").json()}
    assert listed[queue_name]["counts"]["waiting"] == 1
    assert api.get(f"/queues/{queue_name}/metrics").json()["counts"]["delayed"] == 1
    waiting = api.get(f"/queues/{queue_name}/jobs", params={"state": "waiting"}).json()
    assert [j["id"] for j in waiting["jobs"]] == [job_id] and waiting["total"] == 1
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


def test_api_errors_are_statuses_with_one_shape(api, queue_name):
    Queue(queue_name).add("x", {})

    def shaped(response, status):
        body = response.json()
        assert response.status_code == status, body
        assert set(body) >= {"error", "message", "status"} and body["status"] == status
        return body

    assert "no-such-queue" in shaped(api.get("/queues/no-such-queue/jobs"), 404)["message"]
    assert "nope" in shaped(api.get(f"/queues/{queue_name}/jobs/nope"), 404)["message"]
    bad = api.post(f"/queues/{queue_name}/jobs", json={"name": "x", "data": {}, "opts": {"attempts": 0}})
    assert "attempts" in shaped(bad, 400)["message"]
    waiting_id = api.get(f"/queues/{queue_name}/jobs").json()["jobs"][0]["id"]
    assert shaped(api.post(f"/queues/{queue_name}/jobs/{waiting_id}/retry"), 409)["state"] == "waiting"
    invalid = shaped(api.get(f"/queues/{queue_name}/jobs", params={"state": "bogus"}), 422)
    assert invalid["error"] == "ValidationError" and invalid["fields"][0]["location"] == "query.state"
    assert shaped(api.post(f"/queues/{queue_name}/jobs", content=b"{not json"), 422)["fields"]
    assert shaped(api.get("/no/such/route"), 404)["error"] == "NotFound"
    assert shaped(api.put("/queues"), 405)["error"] == "MethodNotAllowed"


def test_reads_and_adds_never_create_a_queue_unless_asked(api, queue_name, configured, client):
    from pipeline.keys import queues_set

    assert api.get(f"/queues/{queue_name}/jobs").status_code == 404
    refused = api.post(f"/queues/{queue_name}/jobs", json={"name": "x"})
    assert refused.status_code == 404 and "not found" in refused.json()["message"]
    assert not client.sismember(queues_set(configured.namespace), queue_name)
    assert (
        api.post(f"/queues/{queue_name}/jobs", params={"create": "true"}, json={"name": "x"}).status_code
        == 201
    )
    assert client.sismember(queues_set(configured.namespace), queue_name)


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


def test_queue_actions_clean_and_empty_report_what_they_did(api, queue_name):
    q = Queue(queue_name)
    q.add_bulk([{"name": "x"} for _ in range(3)])
    q.add("later", {}, delay=60_000)
    emptied = api.delete(f"/queues/{queue_name}/waiting").json()
    assert emptied["removed"] == 4 and "4" in emptied["message"]
    assert q.get_job_counts("waiting", "delayed") == {"waiting": 0, "delayed": 0}
    cleaned = api.delete(f"/queues/{queue_name}/clean", params={"status": "failed", "grace": 0}).json()
    assert cleaned["removed"] == 0


def test_rate_limits_and_repeats_are_managed_by_admins(api, queue_name):
    q = Queue(queue_name)
    q.add("tick", {}, repeat={"every": 60_000})
    limit = api.put(f"/queues/{queue_name}/rate-limit", json={"max": 5, "duration": 1000}).json()
    assert limit["rate_limit"]["max"] == 5 and q.get_rate_limit()["duration"] == 1000
    assert api.put(f"/queues/{queue_name}/rate-limit", json={"max": 0, "duration": 1000}).status_code == 422
    assert api.delete(f"/queues/{queue_name}/rate-limit").status_code == 200 and q.get_rate_limit() is None

    repeats = api.get(f"/queues/{queue_name}/repeats").json()
    assert [r["name"] for r in repeats] == ["tick"]
    assert api.delete(f"/queues/{queue_name}/repeats/{repeats[0]['key']}").status_code == 200
    assert api.get(f"/queues/{queue_name}/repeats").json() == []
    assert api.delete(f"/queues/{queue_name}/repeats/nope").status_code == 404


def test_the_console_and_docs_load_nothing_from_another_origin(api):
    page = api.get("/")
    assert page.status_code == 200 and "<title>Queues</title>" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "<script>" not in page.text and "innerHTML" not in api.get("/static/dashboard.js").text
    for path in ("/", "/docs", "/redoc", "/login"):
        html = api.get(path).text
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), path
        for asset in re.findall(r"""(?:src|href)="([^"#]+)\"""", html):
            assert api.get("/" + asset).status_code == 200, asset
    assert "SwaggerUIBundle" in api.get("/docs-assets/swagger-ui-bundle.js").text
    assert api.get("/openapi.json").json()["components"]["schemas"]["Error"]


def read_events(api, params, want):  # type: ignore[no-untyped-def]
    """SSE messages (event, id, data) of /live until ``want`` job events arrived."""
    import json

    got, current = [], {}
    with api.stream("GET", "/live", params=params, timeout=20) as stream:
        for line in stream.iter_lines():
            if line.startswith(("event:", "id:", "data:")):
                key, _, value = line.partition(": ")
                current[key.rstrip(":")] = value
            elif not line and current:
                if current.get("event") == "job":
                    got.append((current["id"], json.loads(current["data"])))
                current = {}
                if len(got) >= want:
                    return got
    return got


def test_the_live_feed_relays_queue_events_and_resumes_after_the_last_id(api, queue_name):
    q = Queue(queue_name)
    first = q.add("a", {})
    start = read_events(api, {"queues": queue_name, "last_id": f"{queue_name}=0-0"}, 1)
    assert [(e["event"], e["job_id"], e["queue"]) for _, e in start] == [("waiting", first.id, queue_name)]
    resume_from = start[0][0]

    second = q.add("b", {})
    q.cancel_job(second.id, "changed my mind")
    resumed = read_events(api, {"queues": queue_name, "last_id": resume_from}, 2)
    assert [(e["event"], e["job_id"]) for _, e in resumed] == [("waiting", second.id), ("failed", second.id)]
    assert resumed[1][1]["payload"]["reason"] == "changed my mind"
    # The browser's own reconnect sends Last-Event-ID instead of the query.
    with api.stream(
        "GET", "/live", params={"queues": queue_name}, headers={"Last-Event-ID": resumed[0][0]}
    ) as s:
        lines = [line for line, _ in zip(s.iter_lines(), range(6), strict=False)]
    assert any(second.id in line and "failed" in line for line in lines), lines
    assert api.get("/live", params={"queues": "no-such-queue"}).status_code == 404


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
