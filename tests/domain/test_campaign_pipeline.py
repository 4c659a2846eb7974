"""Campaigns end to end: 50 recipients, a flaky SMTP server, duplicate jobs, exactly one email each."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from actors.campaigns.db import Database
from actors.campaigns.delivery import add_recipients, create_campaign
from actors.campaigns.service import SEND_EMAIL_OPTIONS, CampaignService
from pipeline.queue import Queue
from tests.domain.servers import SmtpServer
from tests.support import WorkerProcess, wait_for


def test_a_campaign_with_temporary_failures_and_duplicate_jobs_emails_each_recipient_once(
    make_queue: Callable[[str], Queue],
    smtp_server: SmtpServer,
    domain_env: dict[str, str],
    domain_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    # Given 50 recipients, every fifth of whom the server defers once or twice
    database = Database(domain_env["DATABASE_URL"])
    campaign_id = create_campaign(
        database, name="Launch", subject="Hello {{ name }}", html="<p>Hi {{ name }}</p>", text="Hi {{ name }}"
    )
    emails = [f"person{i}@example.com" for i in range(50)]
    recipient_ids = add_recipients(database, [(email, f"P{i}") for i, email in enumerate(emails)])
    for i in range(0, 50, 5):
        smtp_server.sink.defer(emails[i], 1 + i % 2)
    queue = make_queue("campaigns")
    # The seed's options, with a short backoff so the test does not wait minutes.
    options = {**SEND_EMAIL_OPTIONS, "backoff": {"type": "exponential", "delay": 200}}
    service = CampaignService(queue, database, job_options=options)

    # When the campaign is sent, with a duplicate job for ten recipients
    assert service.send_campaign(campaign_id, recipient_ids) == {"total_recipients": 50}
    queue.add_bulk(
        {"name": "send-email", "data": {"campaign_id": campaign_id, "recipient_id": r}, "opts": options}
        for r in recipient_ids[:10]
    )
    domain_worker(threads=8)

    # Then everyone gets exactly one email, and the stats add up
    wait_for(lambda: service.get_stats(campaign_id).progress == 100.0, 60, message="campaign finished")
    wait_for(lambda: sum(queue.get_job_counts("waiting", "active", "delayed").values()) == 0, 30)
    delivered = Counter(r.rcpt_tos[0] for r in smtp_server.sink.received)
    assert delivered == Counter(emails)
    assert all(smtp_server.sink.attempts[emails[i]] == 2 + i % 2 for i in range(0, 50, 5))
    stats = service.get_stats(campaign_id)
    assert (stats.total, stats.sent, stats.failed, stats.pending) == (50, 50, 0, 0)
    assert queue.get_failed_count() == 0


def test_sending_a_finished_campaign_again_sends_nothing(
    make_queue: Callable[[str], Queue],
    smtp_server: SmtpServer,
    domain_env: dict[str, str],
    domain_worker: Callable[..., WorkerProcess],
) -> None:
    database = Database(domain_env["DATABASE_URL"])
    campaign_id = create_campaign(database, name="c", subject="s", html="<p>h</p>", text="h")
    ids = add_recipients(database, [(f"p{i}@example.com", "") for i in range(3)])
    queue = make_queue("campaigns")
    service = CampaignService(queue, database)
    domain_worker()

    service.send_campaign(campaign_id, ids)
    wait_for(lambda: service.get_stats(campaign_id).sent == 3, 30)
    wait_for(lambda: queue.get_job_counts("active", "waiting") == {"active": 0, "waiting": 0}, 10)
    service.send_campaign(campaign_id, ids)
    wait_for(lambda: queue.get_job_counts("active", "waiting") == {"active": 0, "waiting": 0}, 10)

    assert smtp_server.sink.count() == 3 and service.get_stats(campaign_id).total == 3
