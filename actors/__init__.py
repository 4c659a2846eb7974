"""The domain pipelines: email, images, reports, campaigns, notifications, file processing, alerts.

Importing this package declares nothing: producers import the ``service``
modules, which talk to queues by name and never load actor code.  The worker
entry point (``dramatiq pipeline.actors``) imports :data:`ACTOR_MODULES`.
"""

#: Every module that declares domain actors, loaded by ``pipeline.actors``.
ACTOR_MODULES = (
    "actors.alerts.actors",
    "actors.campaigns.actors",
    "actors.email.actors",
    "actors.files.actors",
    "actors.images.actors",
    "actors.notifications.actors",
    "actors.reports.actors",
)
