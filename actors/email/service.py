"""The email producer: the seed's ``EmailService``, talking to the ``email`` queue by name.

Addresses are validated here too, so a caller passing a bad or injecting
address gets :class:`InvalidAddressError` at once and nothing is queued.
"""

from __future__ import annotations

from collections.abc import Sequence

from actors.email.addresses import validate_address, validate_header
from actors.producer import QueueProducer
from pipeline.job import Job

QUEUE = "email"

#: Every Monday at 9 AM.
NEWSLETTER_CRON = "0 9 * * 1"


class EmailService(QueueProducer):
    """Queues transactional email.  Pass ``queue`` to use another queue object (tests, other Redis)."""

    queue_name = QUEUE

    def send_welcome_email(self, user_id: int, email: str, name: str = "") -> dict[str, str]:
        """Queue the welcome email; returns ``{"job_id": ...}``."""
        job = self.queue.add("welcome", {"user_id": user_id, "email": validate_address(email), "name": name})
        return {"job_id": job.id}

    def send_password_reset_email(self, email: str, token: str) -> Job:
        """Queue a password reset: 3 attempts, exponential backoff from 5 s, removed once sent."""
        data = {"email": validate_address(email), "token": validate_header(token, "token")}
        return self.queue.add(
            "password-reset",
            data,
            attempts=3,
            backoff={"type": "exponential", "delay": 5000},
            remove_on_complete=True,
            remove_on_fail=False,
        )

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
