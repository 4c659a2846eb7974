"""The email queue end to end: EmailService -> Redis -> ``dramatiq pipeline.actors`` -> SMTP on loopback."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from actors.email.service import PASSWORD_RESET_OPTIONS, EmailService
from actors.errors import InvalidAddressError
from pipeline.errors import JobFailedError
from pipeline.job import JobState
from pipeline.queue import Queue
from tests.domain.servers import SmtpServer, existing
from tests.support import WorkerProcess, wait_for


@pytest.fixture
def email_queue(make_queue: Callable[[str], Queue]) -> Queue:
    return make_queue("email")


@pytest.fixture
def service(email_queue: Queue) -> EmailService:
    return EmailService(email_queue)


def test_the_welcome_email_arrives_with_subject_html_and_text(
    service: EmailService,
    email_queue: Queue,
    smtp_server: SmtpServer,
    domain_worker: Callable[..., WorkerProcess],
) -> None:
    domain_worker()

    job_id = service.send_welcome_email(42, "ada@example.com", "Ada")["job_id"]

    result = existing(email_queue, job_id).wait_until_finished(30)
    [received] = smtp_server.sink.wait_for_count(1)
    assert received.rcpt_tos == ["ada@example.com"] and received.subject == "Welcome!"
    assert "<h1>Welcome, Ada!</h1>" in received.part("html") and "account (#42)" in received.part("plain")
    assert result == {"message_id": received.message["Message-ID"]}


def test_a_hundred_bulk_emails_arrive_exactly_once_each(
    service: EmailService,
    email_queue: Queue,
    smtp_server: SmtpServer,
    domain_worker: Callable[..., WorkerProcess],
) -> None:
    addresses = [f"reader{i}@example.com" for i in range(100)]
    domain_worker(threads=8)

    jobs = service.send_bulk_emails(addresses)

    received = smtp_server.sink.wait_for_count(100, timeout=60)
    wait_for(lambda: email_queue.get_completed_count() == 100, 30, message="100 completed jobs")
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(addresses)
    assert all(r.subject == "Newsletter" for r in received)
    assert {existing(email_queue, j.id).progress for j in jobs} == {100}


def test_a_password_reset_gets_the_seeds_retry_policy(service: EmailService) -> None:
    job = service.send_password_reset_email("ada@example.com", "T0K3N")

    assert job.opts["attempts"] == 3 and job.opts["backoff"] == {"type": "exponential", "delay": 5000}
    assert job.opts["remove_on_complete"] is True and job.opts["remove_on_fail"] is False


def test_a_server_answering_451_twice_gets_the_password_reset_on_the_third_attempt(
    email_queue: Queue,
    smtp_server: SmtpServer,
    domain_worker: Callable[..., WorkerProcess],
) -> None:
    # Given a server that defers the first two deliveries, and the seed's policy with a short backoff
    smtp_server.sink.defer("ada@example.com", 2)
    options = {**PASSWORD_RESET_OPTIONS, "backoff": {"type": "exponential", "delay": 200}}
    service = EmailService(email_queue, reset_options=options)
    domain_worker()

    # When a password reset is queued
    job = service.send_password_reset_email("ada@example.com", "T0K3N")
    assert job.opts["attempts"] == 3 and job.opts["remove_on_complete"] is True

    # Then the third attempt delivers it, and the completed job removes itself
    [received] = smtp_server.sink.wait_for_count(1, timeout=40)
    assert smtp_server.sink.attempts["ada@example.com"] == 3
    assert "T0K3N" in received.part("plain") and received.subject == "Password Reset"
    wait_for(lambda: email_queue.get_job(job.id) is None, 10, message="completed job removed")


def test_a_550_fails_the_job_after_one_attempt(
    service: EmailService,
    email_queue: Queue,
    smtp_server: SmtpServer,
    domain_worker: Callable[..., WorkerProcess],
) -> None:
    smtp_server.sink.reject("gone@example.com")
    domain_worker()

    job_id = service.send_welcome_email(1, "gone@example.com")["job_id"]

    with pytest.raises(JobFailedError, match="permanent mail failure 550"):
        existing(email_queue, job_id).wait_until_finished(30)
    failed = email_queue.get_job(job_id)
    assert failed is not None and failed.attempts_made == 1 and failed.state is JobState.FAILED
    assert smtp_server.sink.attempts["gone@example.com"] == 1


def test_header_injection_is_refused_by_the_service_and_by_the_worker_and_nothing_is_sent(
    service: EmailService,
    email_queue: Queue,
    smtp_server: SmtpServer,
    domain_worker: Callable[..., WorkerProcess],
) -> None:
    injected = "ada@example.com\r\nBcc: everyone@example.com"

    with pytest.raises(InvalidAddressError, match="line break"):
        service.send_welcome_email(1, injected)
    assert sum(email_queue.get_job_counts().values()) == 0

    # A job that reaches the queue some other way fails at once, with the reason.
    domain_worker()
    job = email_queue.add("welcome", {"email": injected, "user_id": 1})
    with pytest.raises(JobFailedError, match=r"invalid recipient .*line break"):
        job.wait_until_finished(30)
    assert existing(email_queue, job.id).attempts_made == 1
    assert smtp_server.sink.count() == 0 and not smtp_server.sink.attempts


def test_a_reminder_waits_for_its_delay(
    service: EmailService,
    email_queue: Queue,
    smtp_server: SmtpServer,
    domain_worker: Callable[..., WorkerProcess],
) -> None:
    domain_worker()

    job = service.send_reminder_email("ada@example.com", 1500)

    assert existing(email_queue, job.id).state is JobState.DELAYED
    [received] = smtp_server.sink.wait_for_count(1, timeout=20)
    finished = email_queue.get_job(job.id)
    assert finished is not None and finished.processed_on is not None
    assert finished.processed_on - finished.timestamp >= 1500
    assert received.subject == "Reminder"


def test_an_urgent_email_jumps_ahead_of_queued_bulk_mail(
    service: EmailService, smtp_server: SmtpServer, domain_worker: Callable[..., WorkerProcess]
) -> None:
    service.send_bulk_emails([f"reader{i}@example.com" for i in range(5)])
    urgent = service.send_urgent_email("boss@example.com", "The building is on fire")
    assert urgent.priority == 1

    domain_worker(threads=1)

    received = smtp_server.sink.wait_for_count(6, timeout=30)
    assert received[0].rcpt_tos == ["boss@example.com"] and "on fire" in received[0].part("plain")


def test_the_weekly_newsletter_is_a_monday_9am_repeat_whose_occurrence_delivers_it(
    service: EmailService,
    email_queue: Queue,
    smtp_server: SmtpServer,
    domain_worker: Callable[..., WorkerProcess],
) -> None:
    occurrence = service.schedule_weekly_newsletter("ada@example.com")

    assert occurrence is not None and occurrence.state is JobState.DELAYED
    [repeat] = email_queue.get_repeatable_jobs()
    assert repeat.cron == "0 9 * * 1" and repeat.name == "newsletter"

    # Run the pending Monday occurrence now: it is a real newsletter send.
    domain_worker()
    occurrence.promote()
    occurrence.wait_until_finished(30)
    [received] = smtp_server.sink.wait_for_count(1)
    assert received.rcpt_tos == ["ada@example.com"] and received.subject == "Newsletter"


def test_an_unknown_email_job_name_fails_once_with_the_known_names(
    email_queue: Queue, smtp_server: SmtpServer, domain_worker: Callable[..., WorkerProcess]
) -> None:
    domain_worker()
    job = email_queue.add("birthday", {"email": "ada@example.com"})
    with pytest.raises(JobFailedError, match=r"unknown email job type 'birthday'.*newsletter, reminder"):
        job.wait_until_finished(30)
    assert existing(email_queue, job.id).attempts_made == 1
