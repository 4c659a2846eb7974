"""The campaign tables (SQLAlchemy 2).

``campaign_deliveries`` holds one row per (campaign, recipient), enforced by a
unique constraint: however many jobs, retries or re-runs touch a pair, they all
meet on the same row, and its status decides whether an email may go out.
"""

from __future__ import annotations

import datetime
from enum import StrEnum

from sqlalchemy import DateTime, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Base(DeclarativeBase):
    """Declarative base of the campaign tables."""


class DeliveryStatus(StrEnum):
    """Where one recipient's email of one campaign is.

    ``pending``: not sent yet (also after a temporary failure); ``sending``: a job
    holds it and may be talking to the mail server right now; ``sent`` and
    ``failed`` are final.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Campaign(Base):
    """A campaign: its subject and bodies are Jinja2 templates rendered per recipient (sandboxed)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(998))
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="campaign", cascade="all, delete-orphan")


class Recipient(Base):
    """Someone campaigns are sent to."""

    __tablename__ = "recipients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")


class Delivery(Base):
    """One recipient's email of one campaign.

    Attributes:
        status: see :class:`DeliveryStatus`.
        claimed_by: the job that moved it to ``sending`` (tells a re-run of that
            same job, which must not resend, from a duplicate job, which must wait).
        attempts: sends tried.
        message_id: the Message-ID of the email that was accepted.
        last_error: the newest failure's text.
    """

    __tablename__ = "campaign_deliveries"
    __table_args__ = (UniqueConstraint("campaign_id", "recipient_id", name="uq_delivery_campaign_recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(
            DeliveryStatus,
            native_enum=False,
            length=16,
            values_callable=lambda statuses: [s.value for s in statuses],
            validate_strings=True,
        ),
        default=DeliveryStatus.PENDING,
    )
    claimed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(String(255), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    campaign: Mapped[Campaign] = relationship(back_populates="deliveries")
    recipient: Mapped[Recipient] = relationship()
