"""The producing side of the store: create jobs (``add.lua``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.store.base import StoreBase
from pipeline.store.codec import Entry, pair_codes


class ProducerStore(StoreBase):
    """Adds of one queue's jobs."""

    def add_args(self, jobs: Sequence[Entry]) -> tuple[list[str], list[Any]]:
        """KEYS and ARGV of ``add.lua`` for these entries."""
        keys = list(self.script_keys.fixed("add"))
        job_prefix = self.keys.job_prefix
        args: list[Any] = [self.clock(), self.max_len]
        dedup_keys = []
        for e in jobs:
            keys.append(job_prefix + e.job_id)
            dedup = ""
            if e.dedup_mode:
                dedup = f"{e.dedup_mode}:{e.dedup_ttl}"
                dedup_keys.append(self.keys.dedup_prefix + e.dedup_id)
            args += (e.job_id, e.message, e.delay, e.priority, "1" if e.lifo else "0", e.name, dedup)
        return keys + dedup_keys, args

    def add(self, jobs: Sequence[Entry]) -> list[tuple[int, str]]:
        """Create jobs in one round trip; per job (code, id): see ``add.lua``."""
        keys, args = self.add_args(jobs)
        return pair_codes(self.scripts("add", keys, args))
