"""The reading side of the store: job records, listings, counts, logs and queue settings.

Nothing here changes a job; listings and counts read the state sets directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from pipeline.states import PAUSED, JobState
from pipeline.store.base import StoreBase
from pipeline.store.codec import decoded, record


class ReadStore(StoreBase):
    """Reads of one queue's jobs."""

    def records(self, job_ids: Sequence[str]) -> list[dict[str, str] | None]:
        if not job_ids:
            return []
        prefix = self.keys.job_prefix
        raw = self.scripts("get_jobs", [prefix + job_id for job_id in job_ids], [])
        return [record(flat) for flat in raw]

    def counts(self, states: Sequence[str]) -> dict[str, int]:
        k = self.keys
        pipe = self.client.pipeline(transaction=False)
        for state in states:
            if state == JobState.WAITING:
                pipe.llen(k.wait)
                pipe.zcard(k.prioritized)
                pipe.zcard(k.limited)
            else:
                pipe.zcard(getattr(k, state))
        pipe.hget(k.meta, "paused")
        replies = pipe.execute()
        paused = replies.pop() == b"1"
        it = iter(replies)
        out = {}
        for state in states:
            n = next(it)
            if state == JobState.WAITING:
                n += next(it) + next(it)
            out[state] = int(n)
        if paused and JobState.WAITING in out:
            # Bull's vocabulary: jobs of a paused queue count as paused, not waiting.
            out[PAUSED] = out[JobState.WAITING]
            out[JobState.WAITING] = 0
        return out

    def ids(self, state: str, start: int, end: int, asc: bool) -> list[str]:
        """Job ids of one state, paginated; ``asc`` lists the oldest (or next to run) first."""
        k = self.keys
        if state == JobState.WAITING:
            return self._waiting_ids(start, end, asc)
        key = getattr(k, state)
        raw = self.client.zrange(key, start, end) if asc else self.client.zrevrange(key, start, end)
        return decoded(raw)

    def _waiting_ids(self, start: int, end: int, asc: bool) -> list[str]:
        # Run order: prioritized set (low score first), the list from its tail, then
        # jobs parked by a per-group rate limit (by when their window frees).
        k = self.keys
        pipe = self.client.pipeline(transaction=False)
        pipe.zcard(k.prioritized)
        pipe.llen(k.wait)
        pipe.zcard(k.limited)
        n_prio, n_list, n_limited = pipe.execute()
        total = n_prio + n_list + n_limited
        first, last = _normalise_range(start, end, total)
        if first > last:
            return []
        if not asc:  # newest (last to run) first: mirror the window
            first, last = total - 1 - last, total - 1 - first
        ids: list[str] = []
        if first < n_prio:
            ids += decoded(self.client.zrange(k.prioritized, first, min(last, n_prio - 1)))
        if last >= n_prio and first < n_prio + n_list:
            a, b = max(first - n_prio, 0), min(last - n_prio, n_list - 1)
            ids += reversed(decoded(self.client.lrange(k.wait, -(b + 1), -(a + 1))))
        if last >= n_prio + n_list:
            a, b = max(first - n_prio - n_list, 0), last - n_prio - n_list
            ids += decoded(self.client.zrange(k.limited, a, b))
        if not asc:
            ids.reverse()
        return ids

    def logs(self, job_id: str, start: int, end: int) -> list[str]:
        return decoded(self.client.lrange(self.keys.logs(job_id), start, end))

    def limiter(self) -> dict[str, Any] | None:
        raw = cast(
            list[bytes | None],
            self.client.hmget(self.keys.meta, "limiter_max", "limiter_duration", "limiter_group"),
        )
        if raw[0] is None or raw[1] is None:
            return None
        out: dict[str, Any] = {"max": int(raw[0]), "duration": int(raw[1])}
        if raw[2] is not None:
            out["group_key"] = raw[2].decode()
        return out


def _normalise_range(start: int, end: int, total: int) -> tuple[int, int]:
    if start < 0:
        start = max(total + start, 0)
    if end < 0:
        end = total + end
    return start, min(end, total - 1)
