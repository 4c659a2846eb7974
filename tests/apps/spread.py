"""Workers for queues spread over several Redis servers, run as ``dramatiq tests.apps.spread``.

``TEST_QUEUES`` (comma-separated) names the queues; each gets an ``echo`` handler
that returns its data and a ``slow`` one that sleeps ``ms`` first.  The Redis
settings (a Sentinel set or a cluster) come from the environment as always.
"""

from __future__ import annotations

import os
import time
from typing import Any

from pipeline import actor

QUEUES = [q for q in os.environ.get("TEST_QUEUES", "spread").split(",") if q]

for _queue in QUEUES:

    @actor(queue_name=_queue, job_name="echo", actor_name=f"echo-{_queue}")
    def echo(**data: Any) -> dict[str, Any]:
        return data

    @actor(queue_name=_queue, job_name="slow", actor_name=f"slow-{_queue}")
    def slow(ms: int = 50, **data: Any) -> dict[str, Any]:
        time.sleep(ms / 1000)
        return data
