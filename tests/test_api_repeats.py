"""The API's repeat routes: a queue's repeat definitions listed and removed (admin token)."""

from __future__ import annotations

from pipeline.queue import Queue


def test_repeats_are_listed_and_removed_by_key(api, queue_name):
    Queue(queue_name).add("tick", {}, repeat={"every": 60_000})

    repeats = api.get(f"/queues/{queue_name}/repeats").json()
    assert [r["name"] for r in repeats] == ["tick"]
    assert api.delete(f"/queues/{queue_name}/repeats/{repeats[0]['key']}").status_code == 200
    assert api.get(f"/queues/{queue_name}/repeats").json() == []
    assert api.delete(f"/queues/{queue_name}/repeats/nope").status_code == 404
