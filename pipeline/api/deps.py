"""Dependencies shared by the routers: the queue named in the path."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from pipeline import wiring
from pipeline.errors import UnknownQueueError
from pipeline.keys import queues_set
from pipeline.queue import Queue

__all__ = ["QueueDep", "UnknownQueueError", "get_queue", "known_queue_names", "queue_exists"]


def known_queue_names() -> list[str]:
    settings = wiring.get_settings()
    members = wiring.get_client().smembers(queues_set(settings.namespace))
    return sorted(m.decode() for m in members)  # type: ignore[union-attr]


def queue_exists(name: str) -> bool:
    settings = wiring.get_settings()
    return bool(wiring.get_client().sismember(queues_set(settings.namespace), name))


def get_queue(queue: Annotated[str, Path(description="queue name")]) -> Queue:
    """The named queue; a name never seen is a 404 (reads never create queues)."""
    if not queue_exists(queue):
        raise UnknownQueueError(queue)
    return Queue(queue)


QueueDep = Annotated[Queue, Depends(get_queue)]
