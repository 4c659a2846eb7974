"""What every worker entry module (``dramatiq <module>``) does first: install the broker, checked.

``pipeline.actors`` and a plugin's own entry module (the domain's
``actors.worker``) start the same way, so a bad setting ends any of them with
the same one line and exit code 3.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from pipeline.broker import PipelineBroker
from pipeline.composition import get_broker
from pipeline.connection import ping
from pipeline.errors import PipelineError

T = TypeVar("T")


def at_worker_start(step: Callable[[], T]) -> T:
    """Run one start-up step of a worker entry module (building the broker, reading settings).

    Under the ``dramatiq`` command a :class:`PipelineError` ends the worker with one
    line (Dramatiq would log a traceback per process and keep retrying); imported by
    a program, the error is raised as usual.
    """
    try:
        return step()
    except PipelineError as exc:
        if "dramatiq.cli" not in sys.modules:
            raise
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(3) from None


def _checked_broker() -> PipelineBroker:
    built = get_broker()
    ping(built.client)
    return built


def worker_broker() -> PipelineBroker:
    """The process's broker (installed as Dramatiq's), its Redis checked once."""
    return at_worker_start(_checked_broker)
