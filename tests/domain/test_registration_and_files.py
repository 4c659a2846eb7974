"""Registration fan-out across queues, notifications, and file processing with progress and cancellation."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest
from PIL import Image

from actors.files.service import FileProcessingService
from actors.registration import RegistrationService, User
from actors.storage import LocalStorage
from pipeline.errors import JobFailedError, JobNotFoundError
from pipeline.job import JobState
from pipeline.queue import Queue
from tests.domain.images import photo
from tests.domain.servers import SmtpServer, existing
from tests.support import WorkerProcess, wait_for


def test_a_registration_puts_one_job_on_each_of_the_three_queues(make_queue: Callable[[str], Queue]) -> None:
    queues: dict[str, Queue] = {}

    def queue(name: str) -> Queue:
        return queues.setdefault(name, make_queue(name))

    jobs = RegistrationService(queue).process_user_registration(
        User(id=5, email="ada@example.com", name="Ada", profile_picture="uploads/ada.png")
    )

    assert set(jobs) == {"email", "file-processing", "notifications"}
    for name, job_id in jobs.items():
        assert queues[name].get_job_counts("waiting") == {"waiting": 1}
        assert queues[name].get_job(job_id) is not None
    assert [j.name for j in queues["email"].get_jobs("waiting")] == ["welcome"]
    assert queues["file-processing"].get_jobs("waiting")[0].data == {
        "user_id": 5,
        "image_key": "uploads/ada.png",
    }
    assert queues["notifications"].get_jobs("waiting")[0].name == "new-user"


def test_a_registration_without_a_picture_skips_the_resize(make_queue: Callable[[str], Queue]) -> None:
    jobs = RegistrationService(make_queue).process_user_registration(User(id=6, email="bo@example.com"))
    assert set(jobs) == {"email", "notifications"}


def test_the_registration_jobs_all_run(
    make_queue: Callable[[str], Queue],
    local_store: LocalStorage,
    smtp_server: SmtpServer,
    domain_worker: Callable[..., WorkerProcess],
) -> None:
    local_store.put("uploads/ada.jpg", photo(800, 600))
    queues: dict[str, Queue] = {}

    def queue(name: str) -> Queue:
        return queues.setdefault(name, make_queue(name))

    domain_worker()
    jobs = RegistrationService(queue).process_user_registration(
        User(id=5, email="ada@example.com", name="Ada", profile_picture="uploads/ada.jpg")
    )

    results = {name: existing(queues[name], job_id).wait_until_finished(30) for name, job_id in jobs.items()}
    assert smtp_server.sink.wait_for_count(1)[0].subject == "Welcome!"
    with Image.open(io.BytesIO(local_store.get(results["file-processing"]["key"]))) as avatar:
        assert avatar.size == (256, 192)
    assert results["notifications"] == {"user_id": 5, "message": "New user #5 registered", "notified": []}


def test_staff_hear_of_a_new_user_by_email_once_each_even_when_the_notification_runs_again(
    make_queue: Callable[[str], Queue],
    smtp_server: SmtpServer,
    domain_worker: Callable[..., WorkerProcess],
) -> None:
    notifications, email = make_queue("notifications"), make_queue("email")
    domain_worker(env={"STAFF_EMAILS": "ops@example.com, founder@example.com"})

    first = notifications.add("new-user", {"user_id": 9})
    assert first.wait_until_finished(30)["notified"] == ["ops@example.com", "founder@example.com"]
    received = smtp_server.sink.wait_for_count(2)
    assert sorted(r.rcpt_tos[0] for r in received) == ["founder@example.com", "ops@example.com"]
    assert {r.subject for r in received} == {"New user #9"} and "#9" in received[0].part("plain")

    # The same notification again (a retry, or a duplicate add): the email jobs already exist.
    notifications.add("new-user", {"user_id": 9}).wait_until_finished(30)
    wait_for(lambda: email.get_completed_count() == 2, 10, message="the two staff emails completed")
    assert email.get_job_counts("waiting", "active", "completed") == {
        "waiting": 0,
        "active": 0,
        "completed": 2,
    }
    assert smtp_server.sink.count() == 2


def test_a_malformed_staff_address_fails_the_notification_naming_the_setting(
    make_queue: Callable[[str], Queue], domain_worker: Callable[..., WorkerProcess]
) -> None:
    notifications = make_queue("notifications")
    domain_worker(env={"STAFF_EMAILS": "ops@example.com\nBcc: x@evil.example"})
    job = notifications.add("new-user", {"user_id": 3})
    with pytest.raises(JobFailedError, match="invalid STAFF_EMAILS"):
        job.wait_until_finished(30)
    assert existing(notifications, job.id).attempts_made == 1


def csv_of(rows: int) -> bytes:
    return ("id,name\n" + "".join(f"{i},name {i}\n" for i in range(rows))).encode()


def test_convert_reports_progress_per_chunk_and_writes_json_lines(
    make_queue: Callable[[str], Queue], local_store: LocalStorage, domain_worker: Callable[..., WorkerProcess]
) -> None:
    local_store.put("files/people.csv", csv_of(1000))
    service = FileProcessingService(make_queue("file-processing"))
    domain_worker()

    job_id = service.convert("people.csv", rows_per_chunk=100)["job_id"]

    result = existing(service.queue, job_id).wait_until_finished(30)
    assert result == {
        "file_id": "people.csv",
        "status": "completed",
        "key": "files/people.csv.jsonl",
        "chunks": 10,
    }
    assert service.monitor_job(job_id)["progress"] == 100
    lines = local_store.get("files/people.csv.jsonl").decode().splitlines()
    assert len(lines) == 1000 and json.loads(lines[-1]) == {"id": "999", "name": "name 999"}


def test_convert_stops_early_when_its_job_is_cancelled(
    make_queue: Callable[[str], Queue], local_store: LocalStorage, domain_worker: Callable[..., WorkerProcess]
) -> None:
    local_store.put("files/big.csv", csv_of(2000))
    service = FileProcessingService(make_queue("file-processing"))
    domain_worker()

    job_id = service.convert("big.csv", rows_per_chunk=100, throttle_ms=200)["job_id"]
    wait_for(lambda: service.monitor_job(job_id)["progress"] >= 10, 20, message="conversion under way")
    service.queue.cancel_job(job_id, "user changed their mind")

    wait_for(lambda: service.monitor_job(job_id)["state"] != JobState.ACTIVE, 20, message="job stopped")
    progress = service.monitor_job(job_id)["progress"]
    assert 10 <= progress < 100
    assert not local_store.exists("files/big.csv.jsonl")
    assert any("stopped after" in line for line in service.queue.get_job_logs(job_id))


def test_the_progress_monitor_reports_a_missing_job(make_queue: Callable[[str], Queue]) -> None:
    with pytest.raises(JobNotFoundError):
        FileProcessingService(make_queue("file-processing")).monitor_job("no-such-job")
