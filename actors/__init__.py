"""The domain pipelines: email, images, reports, campaigns, notifications, file processing.

Importing the package declares every domain actor, so ``dramatiq
pipeline.actors`` runs them all.  Producers use the ``service`` modules, which
talk to queues by name and never call an actor.
"""

from actors.campaigns import actors as campaign_actors
from actors.email import actors as email_actors
from actors.files import actors as file_actors
from actors.images import actors as image_actors
from actors.notifications import actors as notification_actors
from actors.reports import actors as report_actors

__all__ = [
    "campaign_actors",
    "email_actors",
    "file_actors",
    "image_actors",
    "notification_actors",
    "report_actors",
]
