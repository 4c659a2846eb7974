"""Worker entry point: ``dramatiq pipeline.actors`` boots workers for every domain actor.

Importing this module installs the project's broker as Dramatiq's broker and
loads the ``actors`` package.  Dramatiq's CLI flags (``--processes``,
``--threads``, ``--queues``) work as usual.
"""

from __future__ import annotations

from pipeline.broker import get_broker

broker = get_broker()

import actors  # noqa: E402,F401  (registers the domain actors on the broker above)
