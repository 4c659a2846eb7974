"""The management side of the store: changes an operator makes to jobs and to the queue."""

from __future__ import annotations

from typing import Any, cast

from pipeline.store.base import StoreBase
from pipeline.store.codec import decoded, ok


class AdminStore(StoreBase):
    """Operator transitions of one queue: one job at a time, or the whole queue in batches."""

    # -- one job

    def remove(self, job_id: str) -> int:
        keys = self.script_keys.for_job("remove", job_id)
        return int(self.scripts("remove", keys, [job_id, self.max_len, self.keys.dedup_prefix]))

    def retry_failed(self, job_id: str) -> int:
        keys = self.script_keys.for_job("retry_failed", job_id)
        return int(self.scripts("retry_failed", keys, [job_id, self.max_len]))

    def cancel(self, job_id: str, reason: str) -> int:
        keys = self.script_keys.for_job("cancel", job_id)
        args = [job_id, reason, self.clock(), self.max_len, self.keys.dedup_prefix]
        return int(self.scripts("cancel", keys, args))

    def reschedule(self, job_id: str, delay_ms: int) -> int:
        keys = self.script_keys.for_job("reschedule", job_id)
        return int(self.scripts("reschedule", keys, [job_id, delay_ms, self.max_len]))

    # -- the whole queue, one batch per call

    def clean(self, cutoff_ms: float, state: str, limit: int) -> list[str]:
        k = self.keys
        keys = self.script_keys.for_state("clean", state)
        ids = self.scripts(
            "clean", keys, [cutoff_ms, limit, k.job_prefix, k.logs_prefix, self.max_len, state]
        )
        return decoded(ids)

    def drain(self, limit: int = 1000) -> int:
        k = self.keys
        args = [limit, k.job_prefix, k.logs_prefix, self.max_len]
        return int(self.scripts("drain", self.script_keys.fixed("drain"), args))

    def promote_all(self, limit: int) -> int:
        args = [limit, self.keys.job_prefix, self.max_len]
        return int(self.scripts("promote_all", self.script_keys.fixed("promote_all"), args))

    def retry_all(self, limit: int) -> int:
        args = [limit, self.keys.job_prefix, self.max_len]
        return int(self.scripts("retry_all", self.script_keys.fixed("retry_all"), args))

    def obliterate(self, limit: int, force: bool) -> int:
        """Delete up to ``limit`` jobs in any state; ``Code.ACTIVE`` when some are active and not
        ``force``."""
        k = self.keys
        args = [limit, k.job_prefix, k.logs_prefix, "1" if force else "0"]
        return int(self.scripts("obliterate", self.script_keys.fixed("obliterate"), args))

    # -- queue settings

    def set_paused(self, paused: bool) -> bool:
        args = ["pause" if paused else "resume", self.max_len]
        return ok(self.scripts("pause", self.script_keys.fixed("pause"), args))

    def set_limiter(self, limit_max: int, duration_ms: int, group_key: str | None) -> None:
        fields: dict[str, Any] = {"limiter_max": limit_max, "limiter_duration": duration_ms}
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self.keys.meta, mapping=cast(Any, fields))
        if group_key:
            pipe.hset(self.keys.meta, "limiter_group", group_key)
        else:
            pipe.hdel(self.keys.meta, "limiter_group")
        pipe.execute()

    def clear_limiter(self) -> None:
        self.client.hdel(self.keys.meta, "limiter_max", "limiter_duration", "limiter_group")
        # Parked jobs go back at the next fetch: make them due now.
        parked = decoded(self.client.zrange(self.keys.limited, 0, -1))
        if parked:
            self.client.zadd(self.keys.limited, dict.fromkeys(parked, 0))
