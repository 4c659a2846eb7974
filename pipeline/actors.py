"""Worker entry point: ``dramatiq pipeline.actors`` boots workers for every installed plugin's actors.

Importing this module installs the project's broker as Dramatiq's broker and
imports every actor module that plugins declare through the ``pipeline.actors``
entry point group (the project's domain, ``actors/``, is one), then those named
by ``PIPELINE_ACTOR_MODULES``.  Dramatiq's CLI flags (``--processes``,
``--threads``, ``--queues``) work as usual.
"""

from __future__ import annotations

from pipeline import plugins, wiring
from pipeline.boot import at_worker_start, worker_broker

broker = worker_broker()
at_worker_start(
    lambda: plugins.import_actor_modules(
        plugins.actor_modules(),
        named_by=f"a {plugins.ACTORS_GROUP!r} entry point (install the project again)",
    )
)
at_worker_start(
    lambda: plugins.import_actor_modules(
        wiring.get_settings().actor_modules, named_by="PIPELINE_ACTOR_MODULES"
    )
)
