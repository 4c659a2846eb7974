"""RateLimit: Bull's queue ``limiter``, declared on the actors that serve the queue.

``@actor(queue_name="email", limiter={"max": 10, "duration": 1000})`` (add
``"group_key": "tenant_id"`` to limit each tenant apart).  At worker boot the
limiter is written to Redis, where the fetch script enforces it for every
worker on every host: a start is counted when a worker takes a job, so a job
over the limit simply keeps waiting — it uses no attempt, is not failed, and
logs nothing.  ``Queue.set_rate_limit`` / ``remove_rate_limit`` change it at
runtime; workers obey the current value at their next fetch.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from pipeline.errors import ConfigurationError
from pipeline.options import validate_limiter
from pipeline.ports import JobBroker


class RateLimit(Middleware):
    """Validates actor-declared limiters and publishes them when a worker boots."""

    def __init__(self) -> None:
        self.logger = logging.getLogger(__name__)
        self.limiters: dict[str, dict[str, Any]] = {}

    @property
    def actor_options(self) -> set[str]:
        return {"limiter"}

    def after_declare_actor(self, broker: dramatiq.Broker, actor: Any) -> None:
        raw = actor.options.get("limiter")
        if raw is None:
            return
        limit = validate_limiter(raw, actor.queue_name)
        current = self.limiters.get(actor.queue_name)
        if current is not None and current != limit:
            raise ConfigurationError(
                f"queue {actor.queue_name!r} has two different limiters declared: {current} and {limit}"
            )
        self.limiters[actor.queue_name] = limit

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        if not isinstance(broker, JobBroker):
            return
        wanted = getattr(worker, "consumer_whitelist", None)
        for queue_name, limit in self.limiters.items():
            if not wanted or queue_name in wanted:
                broker.queue(queue_name).set_rate_limit(
                    limit["max"], limit["duration"], limit.get("group_key")
                )
                self.logger.info("Rate limit of queue %r: %s", queue_name, limit)
