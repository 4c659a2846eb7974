"""The notifications queue's handler for ``new-user``.

It records the event in the job's log and result, which the dashboard shows,
and, when ``STAFF_EMAILS`` names anyone, queues one email per staff address on
the email queue (each with its own retries).  Those jobs' ids derive from the
user and the address, so a retried notification never mails anyone twice.
"""

from __future__ import annotations

from typing import Any

from actors import deps
from actors.email.addresses import validate_address
from pipeline import actor, current_job
from pipeline.queue import Queue

QUEUE = "notifications"


@actor(queue_name=QUEUE, job_name="new-user", attempts=3, backoff=1000)
def notify_new_user(user_id: int) -> dict[str, Any]:
    """Announce a newly registered user, to the job log and to staff by email."""
    uid = int(user_id)
    message = f"New user #{uid} registered"
    job = current_job()
    job.log(message)
    staff = [validate_address(address, "STAFF_EMAILS") for address in deps.settings().staff_emails]
    if staff:
        Queue("email").add_bulk(
            [
                {
                    "name": "new-user",
                    "data": {"email": to, "user_id": uid},
                    "opts": {"job_id": f"new-user:{uid}:{to}"},
                }
                for to in staff
            ]
        )
        job.log(f"staff emails queued for {', '.join(staff)}")
    return {"user_id": uid, "message": message, "notified": staff}
