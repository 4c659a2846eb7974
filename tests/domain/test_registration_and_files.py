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
from pipeline.errors import JobNotFoundError
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
    assert results["notifications"] == {"user_id": 5, "message": "New user #5 registered"}


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
