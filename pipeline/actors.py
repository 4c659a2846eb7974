"""Worker entry point: ``dramatiq pipeline.actors`` boots workers for every domain actor.

Importing this module installs the project's broker as Dramatiq's broker and
loads every module of ``actors.ACTOR_MODULES``.  Dramatiq's CLI flags
(``--processes``, ``--threads``, ``--queues``) work as usual.
"""

from __future__ import annotations

import importlib

from actors import ACTOR_MODULES
from pipeline.broker import get_broker

broker = get_broker()

for _module in ACTOR_MODULES:
    importlib.import_module(_module)
