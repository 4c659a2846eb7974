"""The email producer: the seed's ``EmailService``, talking to the ``email`` queue by name.

Addresses are validated here too, so a caller passing a bad or injecting
address gets :class:`InvalidAddressError` at once and nothing is queued.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from actors.email.addresses import validate_address, validate_header
from actors.producer import QueueProducer
from pipeline.job import Job
from pipeline.queue import Queue

QUEUE = "email"

#: Every Monday at 9 AM.
NEWSLETTER_CRON = "0 9 * * 1"
#: The seed's retry policy for a password reset.
PASSWORD_RESET_OPTIONS: dict[str, Any] = {
    "attempts": 3,
    "backoff": {"type": "exponential", "delay": 5000},
    "remove_on_complete": True,
    "remove_on_fail": False,
}


class EmailService(QueueProducer):
    """Queues transactional email.  Pass ``queue`` to use another queue object (tests, other Redis).

    ``reset_options`` replaces :data:`PASSWORD_RESET_OPTIONS` (e.g. a shorter backoff
    for a mail relay that recovers quickly).
    """

    queue_name = QUEUE

    def __init__(self, queue: Queue | None = None, reset_options: Mapping[str, Any] | None = None) -> None:
        super().__init__(queue)
        self.reset_options = dict(PASSWORD_RESET_OPTIONS if reset_options is None else reset_options)

    def send_welcome_email(self, user_id: int, email: str, name: str = "") -> dict[str, str]:
        """Queue the welcome email; returns ``{"job_id": ...}``."""
        job = self.queue.add("welcome", {"user_id": user_id, "email": validate_address(email), "name": name})
        return {"job_id": job.id}

    def send_password_reset_email(self, email: str, token: str) -> Job:
        """Queue a password reset: by default 3 attempts, exponential backoff from 5 s, removed once sent."""
        data = {"email": validate_address(email), "token": validate_header(token, "token")}
        return self.queue.add("password-reset", data, repeat=None, **self.reset_options)

    def send_bulk_emails(self, emails: Sequence[str]) -> list[Job]:
        """Queue one ``bulk-email`` job per address in one round trip (all addresses checked first)."""
        jobs = [{"name": "bulk-email", "data": {"email": validate_address(email)}} for email in emails]
        return self.queue.add_bulk(jobs)

    def send_reminder_email(self, email: str, delay_ms: int) -> Job:
        """Queue a reminder that runs ``delay_ms`` from now."""
        return self.queue.add("reminder", {"email": validate_address(email)}, delay=delay_ms)

    def schedule_weekly_newsletter(self, email: str) -> Job | None:
        """Send the newsletter to ``email`` every Monday at 9 AM (adding it again updates the schedule)."""
        return self.queue.add(
            "newsletter", {"email": validate_address(email)}, repeat={"cron": NEWSLETTER_CRON}
        )

    def send_urgent_email(self, email: str, message: str) -> Job:
        """Queue an urgent email with priority 1 (the highest: lower numbers run first)."""
        return self.queue.add("urgent", {"email": validate_address(email), "message": message}, priority=1)
