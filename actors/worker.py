"""The domain's worker entry point: ``dramatiq actors.worker`` boots workers for every domain actor.

Importing this module installs the project's broker as Dramatiq's broker, reads
the domain's settings (a bad value ends the worker with one line, as a bad Redis
address does) and imports every module of :data:`ACTOR_MODULES`.  The domain
registers this module as a ``pipeline.actors`` entry point too, so
``dramatiq pipeline.actors`` loads the same actors.
"""

from __future__ import annotations

import importlib

from actors import settings
from pipeline.boot import at_worker_start, worker_broker

#: Every module that declares domain actors.
ACTOR_MODULES = [
    "actors.alerts.actors",
    "actors.campaigns.actors",
    "actors.email.actors",
    "actors.files.actors",
    "actors.images.actors",
    "actors.notifications.actors",
    "actors.reports.actors",
]

broker = worker_broker()
at_worker_start(settings.get_settings)
for _module in ACTOR_MODULES:
    importlib.import_module(_module)
