"""Worker entry point: ``dramatiq pipeline.actors`` boots workers for every domain actor.

Importing this module installs the project's broker as Dramatiq's broker and
loads every module of ``actors.ACTOR_MODULES``.  Dramatiq's CLI flags
(``--processes``, ``--threads``, ``--queues``) work as usual.
"""

from __future__ import annotations

import importlib
import sys

from actors import ACTOR_MODULES
from pipeline.broker import PipelineBroker
from pipeline.composition import get_broker
from pipeline.connection import ping
from pipeline.errors import PipelineError


def _broker() -> PipelineBroker:
    """The broker, its Redis checked once.

    Under the ``dramatiq`` command a bad address ends the worker with one line
    naming the setting (Dramatiq would log a traceback per process and keep
    retrying); imported by a program, the error is raised as usual.
    """
    try:
        built = get_broker()
        ping(built.client)
    except PipelineError as exc:
        if "dramatiq.cli" not in sys.modules:
            raise
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(3) from None
    return built


broker = _broker()

for _module in ACTOR_MODULES:
    importlib.import_module(_module)
