"""The base of every producer service: bound to one queue by name, built on first use."""

from __future__ import annotations

from typing import ClassVar

from pipeline.queue import Queue


class QueueProducer:
    """Adds jobs to ``queue_name``.  Pass ``queue`` to use another queue object (tests, other Redis)."""

    queue_name: ClassVar[str]

    def __init__(self, queue: Queue | None = None) -> None:
        self._queue = queue

    @property
    def queue(self) -> Queue:
        if self._queue is None:
            self._queue = Queue(self.queue_name)
        return self._queue
