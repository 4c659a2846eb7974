"""What the middleware and the consumer need of the broker, as small typed protocols.

Middleware depend on :class:`JobBroker` and the consumer on :class:`ConsumerBroker`,
never on ``PipelineBroker``: the broker builds consumers, and the composition root
(``pipeline.composition``) puts broker and middleware together, so the
dependencies all point one way.  ``PipelineBroker`` is the one implementation.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import dramatiq
import redis
from dramatiq.broker import MessageProxy
from dramatiq.message import Message

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


class ConsumerBroker(JobBroker, Protocol):
    """What a ``JobConsumer`` needs of the broker that built it."""

    #: Queues whose jobs this process must not start (Bull's local pause).
    locally_paused: set[str]

    def holding(self, owner: str, queue_name: str) -> dict[tuple[str, str], None]:
        """The jobs consumer thread ``owner`` holds, shared by every consumer it builds."""
        ...

    def drop_holding(self, owner: str) -> None:
        """Forget ``owner``'s holding once it holds nothing."""
        ...

    def resolve_actor(self, queue_name: str, job_name: str) -> str | None:
        """The actor that handles ``job_name`` on ``queue_name``, if any."""
        ...

    def job_name_of(self, actor_name: str) -> str:
        """The job name actor ``actor_name`` handles."""
        ...

    def default_time_limit(self) -> int:
        """The time limit (ms) of a job whose actor sets none."""
        ...

    def record_dead_letter(self, message: Message[Any] | MessageProxy) -> None:
        """Remember a job this process's workers are failing (``join(fail_fast=True)``)."""
        ...
