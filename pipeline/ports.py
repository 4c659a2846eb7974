"""What the middleware need of the broker, as a small typed protocol.

Middleware depend on :class:`JobBroker`, never on ``PipelineBroker``: the broker
module assembles the middleware stack, so a middleware importing the broker back
would close an import circle.  ``PipelineBroker`` is the one implementation.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import dramatiq
import redis

if TYPE_CHECKING:
    from pipeline.queue import Queue
    from pipeline.reconnect import ConnectionWatch
    from pipeline.settings import Settings
    from pipeline.store import QueueStore


@runtime_checkable
class JobBroker(Protocol):
    """A broker whose messages are tracked jobs (checked once, at worker boot)."""

    settings: Settings
    client: redis.Redis
    #: Whether Redis answers, shared by every thread of the process.
    connection_watch: ConnectionWatch
    #: Set while the worker shuts down.
    stopping: threading.Event

    def queue(self, queue_name: str) -> Queue:
        """The ``Queue`` of ``queue_name`` (one per broker)."""
        ...

    def store(self, queue_name: str) -> QueueStore:
        """The job store of ``queue_name``."""
        ...

    def held_jobs(self) -> dict[str, list[tuple[str, str]]]:
        """(job id, lock token) of every job this process holds, per queue."""
        ...

    def get_declared_queues(self) -> set[str]: ...

    def get_actor(self, actor_name: str) -> dramatiq.Actor[Any, Any]: ...
