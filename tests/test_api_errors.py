"""The API's errors: every failure is a status with one body shape (admin token)."""

from __future__ import annotations

from pipeline.queue import Queue


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
