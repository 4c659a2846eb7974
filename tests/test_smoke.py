from __future__ import annotations

from pipeline import Queue, actor, current_job
from pipeline.job import JobState
from tests.support import wait_for


def test_a_job_added_by_name_runs_and_stores_its_result(broker, worker, queue_name, settings):
    @actor(queue_name=queue_name, job_name="welcome", broker=broker)
    def welcome(user_id: int, email: str) -> dict[str, object]:
        current_job().log(f"sending to {email}")
        return {"sent": email, "user": user_id}

    worker(threads=2)
    q = Queue(queue_name, settings=settings)
    job = q.add("welcome", {"user_id": 1, "email": "a@example.com"})
    assert job.wait_until_finished(10) == {"sent": "a@example.com", "user": 1}
    fresh = q.get_job(job.id)
    assert fresh is not None and fresh.state is JobState.COMPLETED
    assert fresh.attempts_made == 1
    assert q.get_job_logs(job.id) == ["sending to a@example.com"]
    msg = welcome.send(user_id=2, email="b@example.com")
    done = wait_for(lambda: (j := q.get_job(msg.message_id)) and j.state is JobState.COMPLETED and j)
    assert done.result == {"sent": "b@example.com", "user": 2}
    assert done.name == "welcome"
