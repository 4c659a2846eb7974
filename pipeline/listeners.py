"""Local event listeners: Bull's ``@OnQueue*`` family, run in the worker process.

``@on("email", "completed")`` receives ``(job, result)``; ``failed`` receives
``(job, error)``; ``progress`` ``(job, progress)``; ``active`` and ``stalled``
``(job)``; ``waiting`` ``(job_id)``.  They fire for what happens in this
process (jobs it runs, stalls it reclaims, jobs it adds: ``waiting`` fires for each
job an ``add``, ``add_bulk`` or ``actor.send`` of this process created waiting, not
delayed, not deduplicated).  A listener that
raises is logged and never changes the job's outcome.  For events of every
process, use :class:`pipeline.events.QueueEvents`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from pipeline.errors import ConfigurationError
from pipeline.states import LocalEvent

LOCAL_EVENTS = frozenset(LocalEvent)
F = TypeVar("F", bound=Callable[..., Any])

_listeners: dict[tuple[str, str], list[Callable[..., Any]]] = defaultdict(list)
logger = logging.getLogger(__name__)


def on(queue_name: str, event: str) -> Callable[[F], F]:
    """Register a local listener for ``event`` of ``queue_name``."""
    if event not in LOCAL_EVENTS:
        raise ConfigurationError(f"unknown local event {event!r} (one of {', '.join(sorted(LOCAL_EVENTS))})")

    def register(fn: F) -> F:
        _listeners[(queue_name, event)].append(fn)
        return fn

    return register


def has_listeners(queue_name: str, event: str) -> bool:
    return bool(_listeners.get((queue_name, event)))


def dispatch(queue_name: str, event: str, *args: Any) -> None:
    """Call the listeners of ``event``; their errors are logged, never raised."""
    for listener in _listeners.get((queue_name, event), ()):
        try:
            listener(*args)
        except Exception:
            logger.exception("Listener %r for %r on queue %r raised", listener, event, queue_name)


def clear() -> None:
    """Forget every listener (for tests)."""
    _listeners.clear()
