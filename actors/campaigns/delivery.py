"""Campaign operations: create, target, send one recipient's email exactly once, and report stats.

How "never twice" holds (see :func:`send_campaign_email`): a job first claims
the (campaign, recipient) row by moving it from ``pending`` to ``sending`` with
its own id, in a transaction; only the claimant talks to the mail server; the
outcome is written straight after.  A duplicate job finds the row claimed or
final and sends nothing.  A re-run of the claimant that finds its own claim
still ``sending`` cannot know whether the earlier attempt's email went out, so
it marks the row failed instead of risking a second email.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from jinja2 import TemplateError
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from actors.campaigns.db import Database
from actors.campaigns.models import Campaign, Delivery, DeliveryStatus, Recipient
from actors.email.addresses import validate_address
from actors.email.mailer import Mailer, build_message
from actors.email.rendering import RenderedEmail, render_campaign
from actors.errors import (
    CampaignNotFoundError,
    DeliveryOutcomeUnknownError,
    InvalidAddressError,
    PermanentMailError,
    RecipientNotFoundError,
    TemporaryMailError,
)


@dataclass(frozen=True)
class CampaignStats:
    """Where a campaign's sending stands.

    Attributes:
        total: recipients targeted.
        sent: emails accepted by the mail server.
        failed: recipients given up on (permanent rejection, attempts used up, unknown outcome).
        pending: not final yet (waiting, retrying or being sent).
        progress: percentage of recipients whose outcome is final.
    """

    campaign_id: int
    total: int
    sent: int
    failed: int
    pending: int
    progress: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def create_campaign(db: Database, *, name: str, subject: str, html: str, text: str) -> int:
    """Store a campaign; returns its id.

    Its subject and bodies are templates that may use ``{{ name }}`` and ``{{ email }}``.
    """
    with db.session() as session, session.begin():
        campaign = Campaign(name=name, subject=subject, html=html, text=text)
        session.add(campaign)
        session.flush()
        return campaign.id


def add_recipients(db: Database, people: Iterable[tuple[str, str]]) -> list[int]:
    """Store (email, name) pairs, validating each address; returns their ids in order."""
    rows = [Recipient(email=validate_address(email, "recipient"), name=name) for email, name in people]
    with db.session() as session, session.begin():
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def target_recipients(db: Database, campaign_id: int, recipient_ids: Sequence[int]) -> list[int]:
    """Create a ``pending`` delivery per recipient (existing ones are kept); returns the unique ids.

    Raises :class:`CampaignNotFoundError` or :class:`RecipientNotFoundError`
    before anything is written.
    """
    unique_ids = list(dict.fromkeys(int(r) for r in recipient_ids))
    with db.session() as session, session.begin():
        if session.get(Campaign, campaign_id) is None:
            raise CampaignNotFoundError(campaign_id)
        found: set[int] = set()
        for start in range(0, len(unique_ids), 500):
            chunk = unique_ids[start : start + 500]
            found |= set(session.scalars(select(Recipient.id).where(Recipient.id.in_(chunk))))
        missing = [r for r in unique_ids if r not in found]
        if missing:
            raise RecipientNotFoundError(missing)
        _insert_missing_deliveries(session, campaign_id, unique_ids)
    return unique_ids


def _insert_missing_deliveries(session: Session, campaign_id: int, recipient_ids: list[int]) -> None:
    rows = [
        {"campaign_id": campaign_id, "recipient_id": r, "status": DeliveryStatus.PENDING}
        for r in recipient_ids
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        for start in range(0, len(rows), 500):
            statement = insert(Delivery).values(rows[start : start + 500])
            session.execute(statement.on_conflict_do_nothing(index_elements=["campaign_id", "recipient_id"]))
        return
    for row in rows:  # other databases: one savepoint per row, a duplicate rolls back only itself
        try:
            with session.begin_nested():
                session.add(Delivery(**row))
        except IntegrityError:
            pass


def campaign_stats(db: Database, campaign_id: int) -> CampaignStats:
    """Counts of the campaign's deliveries by outcome."""
    with db.session() as session:
        if session.get(Campaign, campaign_id) is None:
            raise CampaignNotFoundError(campaign_id)
        rows = session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.campaign_id == campaign_id)
            .group_by(Delivery.status)
        ).all()
    counts = {DeliveryStatus(status): int(count) for status, count in rows}
    sent, failed = counts.get(DeliveryStatus.SENT, 0), counts.get(DeliveryStatus.FAILED, 0)
    total = sum(counts.values())
    progress = round(100.0 * (sent + failed) / total, 1) if total else 0.0
    return CampaignStats(campaign_id, total, sent, failed, total - sent - failed, progress)


def send_campaign_email(
    db: Database,
    mailer: Mailer,
    *,
    campaign_id: int,
    recipient_id: int,
    job_id: str,
    final_attempt: bool = True,
) -> dict[str, Any]:
    """Send one recipient's email of one campaign, unless it was sent, failed or is being sent.

    Returns ``{"status": "sent", "message_id": ...}``, or ``already-sent`` /
    ``already-failed`` / ``duplicate`` when this job had nothing to do.  A
    temporary mail failure releases the claim and raises (the job retries),
    unless ``final_attempt``, when the delivery is marked failed first.
    """
    content, to = _claim(db, campaign_id, recipient_id, job_id)
    if content is None:
        return {"status": to}
    # The same Message-ID on every attempt lets receiving servers drop a copy they already have.
    domain = mailer.config.mail_from.rpartition("@")[2]
    message_id = f"<campaign-{campaign_id}.recipient-{recipient_id}@{domain}>"
    try:
        message = build_message(sender=mailer.config.mail_from, to=to, content=content, message_id=message_id)
        mailer.send(message)
    except TemporaryMailError as exc:
        final = DeliveryStatus.FAILED if final_attempt else DeliveryStatus.PENDING
        _finish(db, campaign_id, recipient_id, final, error=str(exc))
        raise
    except (PermanentMailError, InvalidAddressError) as exc:
        _finish(db, campaign_id, recipient_id, DeliveryStatus.FAILED, error=str(exc))
        raise
    except Exception as exc:
        # Raised before the server accepted anything (bugs, not mail outcomes): safe to try again.
        _finish(db, campaign_id, recipient_id, DeliveryStatus.PENDING, error=f"{type(exc).__name__}: {exc}")
        raise
    _finish(db, campaign_id, recipient_id, DeliveryStatus.SENT, message_id=message_id)
    return {"status": "sent", "message_id": message_id}


def _claim(
    db: Database, campaign_id: int, recipient_id: int, job_id: str
) -> tuple[RenderedEmail | None, str]:
    """Move the delivery to ``sending`` for ``job_id`` and render its email, in one transaction.

    Returns (content, address), or (None, outcome) when there is nothing to send.
    """
    failure: Exception | None = None
    with db.session() as session, session.begin():
        delivery = _locked_delivery(session, campaign_id, recipient_id)
        if delivery.status is DeliveryStatus.SENT:
            return None, "already-sent"
        if delivery.status is DeliveryStatus.FAILED:
            return None, "already-failed"
        if delivery.status is DeliveryStatus.SENDING:
            if delivery.claimed_by != job_id:
                return None, "duplicate"
            failure = DeliveryOutcomeUnknownError(campaign_id, recipient_id)
            delivery.status, delivery.last_error = DeliveryStatus.FAILED, str(failure)
        else:
            recipient = delivery.recipient
            campaign = delivery.campaign
            context = {"name": recipient.name, "email": recipient.email}
            try:
                content = render_campaign(campaign.subject, campaign.html, campaign.text, context)
            except (TemplateError, InvalidAddressError) as exc:
                failure = PermanentMailError(f"campaign {campaign_id} does not render: {exc}")
                delivery.status, delivery.last_error = DeliveryStatus.FAILED, str(failure)
            else:
                delivery.status, delivery.claimed_by = DeliveryStatus.SENDING, job_id
                delivery.attempts += 1
                return content, recipient.email
    assert failure is not None
    raise failure


def _locked_delivery(session: Session, campaign_id: int, recipient_id: int) -> Delivery:
    query = (
        select(Delivery)
        .where(Delivery.campaign_id == campaign_id, Delivery.recipient_id == recipient_id)
        .with_for_update()
    )
    delivery = session.scalars(query).one_or_none()
    if delivery is not None:
        return delivery
    # A job added without target_recipients (e.g. by hand): create its row now.
    if session.get(Campaign, campaign_id) is None:
        raise CampaignNotFoundError(campaign_id)
    if session.get(Recipient, recipient_id) is None:
        raise RecipientNotFoundError([recipient_id])
    _insert_missing_deliveries(session, campaign_id, [recipient_id])
    return session.scalars(query).one()


def _finish(
    db: Database,
    campaign_id: int,
    recipient_id: int,
    status: DeliveryStatus,
    *,
    error: str | None = None,
    message_id: str | None = None,
) -> None:
    with db.session() as session, session.begin():
        delivery = _locked_delivery(session, campaign_id, recipient_id)
        delivery.status, delivery.last_error = status, error
        if status is DeliveryStatus.PENDING:
            delivery.claimed_by = None
        if message_id is not None:
            delivery.message_id = message_id
