"""User registration fanning out across queues: the seed's ``MultiQueueService``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from actors.email.service import EmailService
from actors.storage import validate_key
from pipeline.queue import Queue


@dataclass(frozen=True)
class User:
    """A newly registered user.

    Attributes:
        id: the user's id.
        email: where the welcome email goes.
        name: shown in the welcome email.
        profile_picture: storage key of an uploaded picture, if any (a key, not a
            URL: workers never fetch addresses supplied by users).
    """

    id: int
    email: str
    name: str = ""
    profile_picture: str | None = None


class RegistrationService:
    """Queues the work a registration causes.  ``queues`` maps a queue name to a Queue."""

    def __init__(self, queues: Callable[[str], Queue] = Queue) -> None:
        self._queues = queues

    def process_user_registration(self, user: User) -> dict[str, str]:
        """Queue the welcome email, the profile-picture resize (if any) and the ``new-user`` notification.

        Returns the job id queued on each queue, by queue name.
        """
        if user.profile_picture is not None:
            validate_key(user.profile_picture)
        welcome = EmailService(self._queues("email")).send_welcome_email(user.id, user.email, user.name)
        jobs = {"email": welcome["job_id"]}
        if user.profile_picture:
            resize = self._queues("file-processing").add(
                "resize-image", {"user_id": user.id, "image_key": user.profile_picture}
            )
            jobs["file-processing"] = resize.id
        jobs["notifications"] = self._queues("notifications").add("new-user", {"user_id": user.id}).id
        return jobs
