"""What every role of the store shares: one queue's client, scripts, keys and clock."""

from __future__ import annotations

import redis

from pipeline.clock import Clock, now_ms
from pipeline.connection import node_client
from pipeline.keys import QueueKeys
from pipeline.scripts import Scripts
from pipeline.store.script_keys import ScriptKeys


class StoreBase:
    """One queue's connection to its jobs in Redis, shared by every role of the store."""

    def __init__(
        self,
        client: redis.Redis,
        scripts: Scripts,
        namespace: str,
        queue_name: str,
        events_max_len: int = 10_000,
        *,
        clock: Clock = now_ms,
    ) -> None:
        """``clock`` gives this host's time in epoch ms (a test may pass a skewed one)."""
        self.client = client
        self.scripts = scripts
        self.queue_name = queue_name
        self.max_len = events_max_len
        self.keys = QueueKeys.for_queue(namespace, queue_name)
        self.script_keys = ScriptKeys(self.keys)
        self.clock = clock

    def redis_ms(self) -> int:
        """Redis's clock in epoch ms (the clock finished jobs are scored on): the clock of the
        server holding this queue, which in a cluster may not be the one a keyless command reaches."""
        seconds, micros = node_client(self.client, self.keys.wait).time()
        return int(seconds) * 1000 + int(micros) // 1000

    def finish_clock(self) -> float:
        """Redis's clock in epoch ms with the microseconds as the fraction, as finished jobs are
        scored (``finish_score`` in the scripts)."""
        seconds, micros = self.client.time()
        return int(seconds) * 1000 + int(micros) / 1000
