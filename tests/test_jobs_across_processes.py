"""Jobs added in one process, run by a worker process, seen from a third."""

from __future__ import annotations

import json
import textwrap
from concurrent.futures import ThreadPoolExecutor

from pipeline.job import JobState
from pipeline.queue import Queue
from tests.support import run_python, unique, wait_for


def _env(settings, queue_name):
    return {
        "REDIS_URL": settings.redis_url,
        "PIPELINE_NAMESPACE": settings.namespace,
        "TEST_QUEUE": queue_name,
    }


def test_a_worker_process_runs_jobs_from_add_and_from_send_and_a_third_process_sees_them(
    settings, queue_name, worker_process
):
    # Given a worker process running a user's own actor module
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    q = Queue(queue_name, settings=settings)

    # When one job is added by name and another is sent through the actor from another process
    added = q.add("echo", {"greeting": "hi"})
    sender = run_python(
        "from tests.apps import basic; print(basic.echo.send(greeting='from send').message_id)",
        _env(settings, queue_name),
    )
    assert sender.returncode == 0, sender.stderr
    sent_id = sender.stdout.strip().splitlines()[-1]

    # Then both complete, and a third process sees their states, results and counts
    wait_for(lambda: q.get_completed_count() == 2, 20, message="both jobs complete")
    reader = run_python(
        textwrap.dedent(
            f"""
            import json
            from pipeline import Queue
            q = Queue({queue_name!r})
            a, b = q.get_job({added.id!r}), q.get_job({sent_id!r})
            print(json.dumps({{"a": [a.state, a.result], "b": [b.state, b.result, b.name],
                              "counts": q.get_job_counts()}}))
            """
        ),
        _env(settings, queue_name),
    )
    assert reader.returncode == 0, reader.stderr
    seen = json.loads(reader.stdout.strip().splitlines()[-1])
    assert seen["a"] == ["completed", {"greeting": "hi"}]
    assert seen["b"] == ["completed", {"greeting": "from send"}, "echo"]
    assert seen["counts"] == {"waiting": 0, "delayed": 0, "active": 0, "completed": 2, "failed": 0}


def test_the_same_job_id_added_100_times_from_4_processes_is_one_job_run_once(
    settings, queue_name, worker_process, client
):
    counter = unique("counter")
    snippet = textwrap.dedent(
        f"""
        from pipeline import Queue
        q = Queue({queue_name!r})
        ids = {{q.add("count-run", {{"key": {counter!r}}}, job_id="unique-job-id").id for _ in range(25)}}
        print(ids)
        """
    )
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: run_python(snippet, _env(settings, queue_name)), range(4)))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    q = Queue(queue_name, settings=settings)
    assert q.get_job_counts() == {"waiting": 1, "delayed": 0, "active": 0, "completed": 0, "failed": 0}

    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    job = q.get_job("unique-job-id")
    assert job is not None
    assert job.wait_until_finished(20) == 1
    q.add("count-run", {"key": counter}, job_id="unique-job-id")  # again, after completion
    assert q.get_job_counts("completed", "waiting") == {"completed": 1, "waiting": 0}
    assert int(client.get(counter)) == 1


def test_a_job_name_without_handler_goes_to_the_catch_all(settings, queue_name, worker_process):
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    q = Queue(queue_name, settings=settings)
    job = q.add("reminder", {"email": "a@example.com"})
    assert job.wait_until_finished(20) == "catch-all got reminder"
    assert q.get_job(job.id).state is JobState.COMPLETED
