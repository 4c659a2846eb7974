"""Dependencies shared by the routers: the queue named in the path."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from pipeline import app as wiring
from pipeline.errors import UnknownQueueError
from pipeline.keys import queues_set
from pipeline.queue import Queue

__all__ = ["QueueDep", "UnknownQueueError", "get_queue", "known_queue_names"]


def known_queue_names() -> list[str]:
    settings = wiring.get_settings()
    members = wiring.get_client().smembers(queues_set(settings.namespace))
    return sorted(m.decode() for m in members)  # type: ignore[union-attr]


def get_queue(queue: Annotated[str, Path(description="queue name")]) -> Queue:
    settings = wiring.get_settings()
    if not wiring.get_client().sismember(queues_set(settings.namespace), queue):
        raise UnknownQueueError(queue)
    return Queue(queue)


QueueDep = Annotated[Queue, Depends(get_queue)]
