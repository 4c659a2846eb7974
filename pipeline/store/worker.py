"""The worker side of the store: take jobs, report their outcomes, keep their locks, and
sweep the locks of workers that went away."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

import redis

from pipeline.store.base import StoreBase
from pipeline.store.codec import Failure, Fetched, decoded, fetched, inbox_entry, ok

MAX_LOG_LINES = 1000


class WorkerStore(StoreBase):
    """The transitions a worker makes on one queue's jobs."""

    def fetch(
        self, count: int, lock_ms: int, idle_member: str = "", idle_ttl_ms: int = 0
    ) -> tuple[list[Fetched], int | None, bool, bool]:
        """Take up to ``count`` jobs.

        Returns (jobs, in how many ms to look again if idle (a delayed or parked job comes
        due), whether a rate limit applies, whether the consumer ``idle_member`` is now
        registered for direct handoffs).
        """
        k = self.keys
        out, wake_in, limited, registered = self.scripts.direct(
            "fetch",
            self.script_keys.fixed("fetch"),
            [
                self.clock(),
                count,
                lock_ms,
                k.job_prefix,
                self.max_len,
                k.limiter_group_prefix,
                idle_member,
                idle_ttl_ms,
            ],
        )
        return fetched(out), (int(float(wake_in)) if wake_in else None), bool(limited), bool(registered)

    def wait_for_work(
        self, timeout_s: float, idle_member: str = "", connection: redis.Connection | None = None
    ) -> Fetched | bool:
        """Block until a job is handed to ``idle_member`` (that job), the doorbell rings (True),
        or ``timeout_s`` passes (False).

        With ``connection`` (a consumer's own, used by nothing else) the wait goes straight
        over it: a handed job then reaches its worker without the client's per-command
        pool and metrics bookkeeping on the way back.
        """
        keys = [self.keys.inbox(idle_member), self.keys.marker] if idle_member else [self.keys.marker]
        timeout = max(timeout_s, 0.001)
        if connection is None:
            popped = self.client.blpop(keys, timeout=timeout)
        else:
            connection.send_command("BLPOP", *keys, timeout)
            popped = connection.read_response()
        if popped is None:
            return False
        if popped[0] == self.keys.marker.encode():
            return True
        return inbox_entry(cast(bytes, popped[1]))

    def complete(
        self,
        job_id: str,
        token: str,
        result_json: str,
        keep: int,
        name: str,
        dedup_id: str = "",
        take: int = 0,
        lock_ms: int = 30_000,
        idle_member: str = "",
        idle_ttl_ms: int = 0,
    ) -> tuple[int, list[Fetched], bool]:
        """Complete a job and take up to ``take`` next ones for this worker in the same call.

        Returns (code, jobs taken, whether ``idle_member`` is now registered for handoffs
        because nothing was left to take).  Code (:class:`pipeline.codes.Code`) DONE,
        NOT_HELD no longer this worker's job, CANCEL_PENDING a cancel was requested (nothing changed).
        """
        code, out, registered = self.scripts.direct(
            "complete",
            self.script_keys.for_job("complete", job_id),
            [
                job_id,
                token,
                self.clock(),
                result_json,
                keep,
                self.max_len,
                name,
                dedup_id,
                take,
                lock_ms,
                idle_member,
                idle_ttl_ms,
            ],
        )
        return int(code), fetched(out), bool(registered)

    def fail(
        self,
        job_id: str,
        token: str,
        failure: Failure,
        keep: int,
        name: str,
        exhausted: bool,
        dedup_id: str = "",
    ) -> bool:
        k = self.keys
        return ok(
            self.scripts(
                "fail",
                self.script_keys.for_job("fail", job_id),
                [
                    job_id,
                    token,
                    self.clock(),
                    failure.reason,
                    failure.stack,
                    failure.stack_limit,
                    keep,
                    k.job_prefix,
                    k.logs_prefix,
                    self.max_len,
                    name,
                    k.metrics_prefix,
                    "1" if exhausted else "0",
                    k.dedup_prefix + dedup_id if dedup_id else "",
                ],
            )
        )

    def retry(self, job_id: str, token: str, delay_ms: int, failure: Failure) -> int:
        """DONE, NOT_HELD (no longer this worker's job) or CANCEL_PENDING (nothing changed); see
        :class:`pipeline.codes.Code`."""
        return int(
            self.scripts(
                "retry",
                self.script_keys.for_job("retry", job_id),
                [
                    job_id,
                    token,
                    delay_ms,
                    failure.reason,
                    failure.stack,
                    failure.stack_limit,
                    self.max_len,
                ],
            )
        )

    def requeue(self, pairs: Iterable[tuple[str, str]], idle_member: str = "") -> int:
        """Put reserved, unstarted jobs back; with ``idle_member``, that consumer also stops
        being idle and the jobs handed to its inbox go back too."""
        args: list[Any] = [self.keys.job_prefix, self.max_len, idle_member]
        for job_id, token in pairs:
            args += (job_id, token)
        if len(args) == 3 and not idle_member:
            return 0
        return int(self.scripts("requeue", self.script_keys.fixed("requeue"), args))

    def update_progress(self, job_id: str, token: str, progress_json: str) -> bool:
        return ok(
            self.scripts(
                "update_progress",
                self.script_keys.for_job("update_progress", job_id),
                [job_id, token, progress_json, self.max_len],
            )
        )

    def add_log(self, job_id: str, line: str) -> int:
        """Append a line to the job's log, keeping the last ``MAX_LOG_LINES``; returns the count."""
        key = self.keys.logs(job_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.rpush(key, line)
        pipe.ltrim(key, -MAX_LOG_LINES, -1)
        return int(pipe.execute()[0])

    def extend_locks(
        self, pairs: Sequence[tuple[str, str]], lock_ms: int, holder: str = ""
    ) -> tuple[list[str], list[str], list[str]]:
        """Renew held locks and register ``holder`` (see ``extend_locks.lua``); returns (ids with
        a cancel request, ids no longer held, ids taken back from a sweep)."""
        args: list[Any] = [lock_ms, self.keys.job_prefix, holder, self.max_len]
        for job_id, token in pairs:
            args += (job_id, token)
        cancelled, lost, retaken = self.scripts("extend_locks", self.script_keys.fixed("extend_locks"), args)
        return decoded(cancelled), decoded(lost), decoded(retaken)

    def reclaim_stalled(
        self, max_stalled: int, interval_ms: int, lock_ms: int = 30_000
    ) -> list[tuple[str, str]]:
        """Sweep expired locks (one process per interval); returns (id, new state) pairs."""
        k = self.keys
        out = self.scripts(
            "stalled",
            self.script_keys.fixed("stalled"),
            [self.clock(), k.job_prefix, max_stalled, self.max_len, interval_ms, lock_ms],
        )
        flat = decoded(out)
        if flat:  # the all-time count Prometheus reads (pipeline_jobs_stalled_total)
            self.client.hincrby(k.metric_totals, "stalled", len(flat) // 2)
        return list(zip(flat[::2], flat[1::2], strict=True))
