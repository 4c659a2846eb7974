"""The API's live feed: queue events relayed over SSE, resumable from the last id."""

from __future__ import annotations

import json

from pipeline.queue import Queue


def read_events(api, params, want):  # type: ignore[no-untyped-def]
    """SSE messages (event, id, data) of /live until ``want`` job events arrived."""
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
