"""The campaigns queue's handler: one recipient's email, sent at most once."""

from __future__ import annotations

from typing import Any

from actors import deps
from actors.campaigns.delivery import send_campaign_email
from pipeline import actor, current_job

QUEUE = "campaigns"
ATTEMPTS = 3


@actor(
    queue_name=QUEUE,
    job_name="send-email",
    attempts=ATTEMPTS,
    backoff={"type": "exponential", "delay": 60_000},
    remove_on_complete=True,
    timeout=120_000,
)
def send_campaign_recipient_email(campaign_id: int, recipient_id: int) -> dict[str, Any]:
    """Send the campaign to the recipient unless that already happened (see ``delivery``)."""
    job = current_job()
    attempts = int(job.opts.get("attempts", ATTEMPTS))
    return send_campaign_email(
        deps.database(),
        deps.mailer(),
        campaign_id=campaign_id,
        recipient_id=recipient_id,
        job_id=job.id,
        final_attempt=job.attempts_made + 1 >= attempts,
    )
