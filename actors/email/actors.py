"""The email queue's handlers: thin shells over rendering and the mailer.

Every handler validates its address again (job data may come from anywhere,
not only from :class:`EmailService`).  A temporary SMTP failure raises a
retryable error; a permanent one, or a bad address, fails the job at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actors import deps
from actors.email.rendering import render_email
from pipeline import UnrecoverableError, actor, current_job

QUEUE = "email"

# Longer than the SMTP socket timeout, so a slow server ends as a classified
# mail error (retried or not) rather than as a time-limit kill.
TIMEOUT_MS = 120_000
RETRY: dict[str, Any] = {"attempts": 3, "backoff": {"type": "exponential", "delay": 5000}}


def _send(to: str, template: str, subject: str, context: dict[str, Any]) -> dict[str, Any]:
    job = current_job()
    job.log(f"sending {template} email to {to}")
    message_id = deps.mailer().send_rendered(to, render_email(template, subject, context))
    job.log(f"{template} email to {to} accepted as {message_id}")
    return {"message_id": message_id}


@actor(queue_name=QUEUE, job_name="welcome", timeout=TIMEOUT_MS, **RETRY)
def send_welcome_email(email: str, user_id: int | None = None, name: str = "") -> dict[str, Any]:
    """Welcome a new user."""
    return _send(email, "welcome", "Welcome!", {"user_id": user_id, "name": name})


@actor(
    queue_name=QUEUE,
    job_name="password-reset",
    timeout=TIMEOUT_MS,
    remove_on_complete=True,
    remove_on_fail=False,
    **RETRY,
)
def send_password_reset_email(email: str, token: str) -> dict[str, Any]:
    """Send a password-reset code."""
    _send(email, "password-reset", "Password Reset", {"token": token})
    return {"success": True}


@actor(queue_name=QUEUE, job_name="bulk-email", timeout=TIMEOUT_MS, **RETRY)
def send_bulk_email(email: str) -> dict[str, Any]:
    """One recipient of a bulk send (the newsletter template)."""
    result = _send(email, "newsletter", "Newsletter", {})
    current_job().update_progress(100)
    return result


@actor(queue_name=QUEUE, job_name="urgent", timeout=TIMEOUT_MS, **RETRY)
def send_urgent_email(email: str, message: str) -> dict[str, Any]:
    """An urgent message (queued with priority 1, ahead of everything else)."""
    return _send(email, "urgent", "Urgent", {"message": message})


def _reminder(email: str, message: str = "") -> dict[str, Any]:
    return _send(email, "reminder", "Reminder", {"message": message})


def _newsletter(email: str) -> dict[str, Any]:
    return _send(email, "newsletter", "Newsletter", {})


def _new_user(email: str, user_id: int) -> dict[str, Any]:
    return _send(email, "new-user", f"New user #{int(user_id)}", {"user_id": int(user_id)})


def _alert(email: str, subject: str, alert: dict[str, Any]) -> dict[str, Any]:
    """An operations alert firing or resolved (queued by ``pipeline.alerts``)."""
    return _send(email, "alert", subject, {"alert": alert})


_OTHER_JOBS: dict[str, Callable[..., dict[str, Any]]] = {
    "reminder": _reminder,
    "newsletter": _newsletter,
    "new-user": _new_user,
    "alert": _alert,
}


@actor(queue_name=QUEUE, catch_all=True, timeout=TIMEOUT_MS, **RETRY)
def handle_other_email(**data: Any) -> dict[str, Any]:
    """The queue's catch-all (the seed's ``@Process()``): reminders, newsletters, staff notices,
    operations alerts, unknown names.

    An unknown job name fails at once: completing it would hide a producer bug.
    """
    name = current_job().name
    handler = _OTHER_JOBS.get(name)
    if handler is None:
        raise UnrecoverableError(f"unknown email job type {name!r} (known: {', '.join(sorted(_OTHER_JOBS))})")
    return handler(**data)
