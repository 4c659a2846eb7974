"""Campaigns without a queue: SQL storage, exactly-once sends to a real SMTP server, stats."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from actors.campaigns.db import Database
from actors.campaigns.delivery import (
    add_recipients,
    campaign_stats,
    create_campaign,
    send_campaign_email,
    target_recipients,
)
from actors.campaigns.models import Delivery, DeliveryStatus
from actors.email.mailer import Mailer, SmtpConfig
from actors.errors import (
    CampaignNotFoundError,
    DeliveryOutcomeUnknownError,
    PermanentMailError,
    RecipientNotFoundError,
    TemporaryMailError,
)
from tests.domain.servers import SmtpServer
from tests.support import unique


@dataclass
class Setup:
    database: Database
    mailer: Mailer
    campaign_id: int
    recipient_ids: list[int]
    emails: list[str]

    def send(self, index: int = 0, job_id: str = "job-1", final_attempt: bool = True) -> dict[str, Any]:
        return send_campaign_email(
            self.database,
            self.mailer,
            campaign_id=self.campaign_id,
            recipient_id=self.recipient_ids[index],
            job_id=job_id,
            final_attempt=final_attempt,
        )

    def delivery(self, index: int = 0) -> Delivery:
        with self.database.session() as session:
            return session.scalars(
                select(Delivery).where(
                    Delivery.campaign_id == self.campaign_id,
                    Delivery.recipient_id == self.recipient_ids[index],
                )
            ).one()


def make_setup(
    database: Database, server: SmtpServer, count: int, html: str = "<p>Hi {{ name }}</p>"
) -> Setup:
    campaign_id = create_campaign(
        database, name="Spring", subject="Spring news for {{ name }}", html=html, text="Hi {{ name }}"
    )
    tag = unique("r")
    emails = [f"{tag}-{i}@example.com" for i in range(count)]
    ids = add_recipients(database, [(email, f"Person {i}") for i, email in enumerate(emails)])
    target_recipients(database, campaign_id, ids)
    mailer = Mailer(SmtpConfig(host=server.host, port=server.port, timeout_s=5, mail_from="news@example.com"))
    return Setup(database, mailer, campaign_id, ids, emails)


def test_a_pair_can_have_only_one_delivery_row(database: Database, smtp_server: SmtpServer) -> None:
    s = make_setup(database, smtp_server, 1)
    with pytest.raises(IntegrityError), database.session() as session, session.begin():
        session.add(Delivery(campaign_id=s.campaign_id, recipient_id=s.recipient_ids[0]))


def test_targeting_twice_or_with_repeats_keeps_one_delivery_per_recipient(
    database: Database, smtp_server: SmtpServer
) -> None:
    s = make_setup(database, smtp_server, 3)
    ids = s.recipient_ids
    assert target_recipients(database, s.campaign_id, [*ids, ids[0]]) == ids
    stats = campaign_stats(database, s.campaign_id)
    assert (stats.total, stats.pending, stats.progress) == (3, 3, 0.0)


def test_targeting_an_unknown_campaign_or_recipient_writes_nothing(database: Database) -> None:
    campaign_id = create_campaign(database, name="c", subject="s", html="h", text="t")
    [known] = add_recipients(database, [(f"{unique('r')}@example.com", "")])
    with pytest.raises(CampaignNotFoundError):
        target_recipients(database, 999_999, [known])
    with pytest.raises(RecipientNotFoundError, match="999999"):
        target_recipients(database, campaign_id, [known, 999_999])
    assert campaign_stats(database, campaign_id).total == 0


def test_an_email_is_sent_once_and_later_jobs_for_the_pair_send_nothing(
    database: Database, smtp_server: SmtpServer
) -> None:
    s = make_setup(database, smtp_server, 1)

    first = s.send(job_id="job-1")
    again = s.send(job_id="job-2")

    assert first["status"] == "sent" and again == {"status": "already-sent"}
    [received] = smtp_server.sink.wait_for_count(1)
    assert received.subject == "Spring news for Person 0"
    assert "<p>Hi Person 0</p>" in received.part("html") and "Hi Person 0" in received.part("plain")
    assert received.message["Message-ID"] == first["message_id"]
    assert first["message_id"] == f"<campaign-{s.campaign_id}.recipient-{s.recipient_ids[0]}@example.com>"
    assert s.delivery().status is DeliveryStatus.SENT


def test_a_temporary_failure_releases_the_claim_so_the_retry_sends(
    database: Database, smtp_server: SmtpServer
) -> None:
    s = make_setup(database, smtp_server, 1)
    smtp_server.sink.defer(s.emails[0], 1)

    with pytest.raises(TemporaryMailError):
        s.send(final_attempt=False)
    row = s.delivery()
    assert row.status is DeliveryStatus.PENDING and row.claimed_by is None and "451" in (row.last_error or "")

    assert s.send()["status"] == "sent"
    assert smtp_server.sink.count() == 1 and s.delivery().attempts == 2


def test_a_temporary_failure_on_the_last_attempt_marks_the_delivery_failed(
    database: Database, smtp_server: SmtpServer
) -> None:
    s = make_setup(database, smtp_server, 1)
    smtp_server.sink.defer(s.emails[0], 1)
    with pytest.raises(TemporaryMailError):
        s.send(final_attempt=True)
    assert s.delivery().status is DeliveryStatus.FAILED
    assert s.send(job_id="job-2") == {"status": "already-failed"}


def test_a_permanent_rejection_marks_the_delivery_failed(database: Database, smtp_server: SmtpServer) -> None:
    s = make_setup(database, smtp_server, 1)
    smtp_server.sink.reject(s.emails[0])
    with pytest.raises(PermanentMailError):
        s.send()
    assert s.delivery().status is DeliveryStatus.FAILED and "550" in (s.delivery().last_error or "")


def test_a_campaign_that_does_not_render_fails_without_sending(
    database: Database, smtp_server: SmtpServer
) -> None:
    s = make_setup(database, smtp_server, 1, html="<p>{{ missing_variable }}</p>")
    with pytest.raises(PermanentMailError, match="does not render"):
        s.send()
    assert s.delivery().status is DeliveryStatus.FAILED and smtp_server.sink.count() == 0


def test_a_duplicate_job_finding_the_pair_claimed_by_another_sends_nothing(
    database: Database, smtp_server: SmtpServer
) -> None:
    s = make_setup(database, smtp_server, 1)
    with database.session() as session, session.begin():
        session.execute(update(Delivery).values(status=DeliveryStatus.SENDING, claimed_by="job-a"))

    assert s.send(job_id="job-b") == {"status": "duplicate"}
    assert smtp_server.sink.count() == 0 and s.delivery().status is DeliveryStatus.SENDING


def test_a_rerun_that_finds_its_own_claim_gives_up_rather_than_risk_a_second_email(
    database: Database, smtp_server: SmtpServer
) -> None:
    # Given an attempt of job-a that died between claiming and recording the outcome
    s = make_setup(database, smtp_server, 1)
    with database.session() as session, session.begin():
        session.execute(update(Delivery).values(status=DeliveryStatus.SENDING, claimed_by="job-a"))

    # When job-a runs again (a retry or a stalled re-run)
    with pytest.raises(DeliveryOutcomeUnknownError):
        s.send(job_id="job-a")

    # Then it sends nothing and the delivery is final
    assert smtp_server.sink.count() == 0 and s.delivery().status is DeliveryStatus.FAILED


def test_racing_duplicate_jobs_send_exactly_one_email(database: Database, smtp_server: SmtpServer) -> None:
    s = make_setup(database, smtp_server, 1)
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def run(n: int) -> None:
        start.wait()
        outcomes.append(s.send(job_id=f"job-{n}")["status"])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes).count("sent") == 1 and len(outcomes) == 8
    assert set(outcomes) <= {"sent", "duplicate", "already-sent"}
    assert len(smtp_server.sink.wait_for_count(1)) == 1


def test_stats_add_up_across_outcomes(database: Database, smtp_server: SmtpServer) -> None:
    s = make_setup(database, smtp_server, 5)
    smtp_server.sink.reject(s.emails[3])
    for index in range(4):
        with contextlib.suppress(PermanentMailError):
            s.send(index, job_id=f"job-{index}")

    stats = campaign_stats(database, s.campaign_id)

    assert (stats.total, stats.sent, stats.failed, stats.pending) == (5, 3, 1, 1)
    assert stats.progress == 80.0
    assert stats.as_dict()["campaign_id"] == s.campaign_id
