"""The notifications queue's handler for ``new-user``.

It records the event in the job's log and result, which the dashboard shows;
a push or webhook to staff would be sent from here.
"""

from __future__ import annotations

from typing import Any

from pipeline import actor, current_job

QUEUE = "notifications"


@actor(queue_name=QUEUE, job_name="new-user", attempts=3, backoff=1000)
def notify_new_user(user_id: int) -> dict[str, Any]:
    """Announce a newly registered user."""
    message = f"New user #{int(user_id)} registered"
    current_job().log(message)
    return {"user_id": int(user_id), "message": message}
