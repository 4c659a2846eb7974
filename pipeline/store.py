"""One queue's job store in Redis: every read and every atomic transition.

Both sides use it: producers (``Queue``) and the broker's consumer.  Each
transition is one Lua script (see ``pipeline/scripts``), so a job is in
exactly one state at every instant, even when a process dies mid-way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import redis

from pipeline.clock import Clock, now_ms
from pipeline.connection import node_client
from pipeline.keys import QueueKeys
from pipeline.scripts import Scripts
from pipeline.states import JobState

MAX_LOG_LINES = 1000


class Entry(NamedTuple):
    """What ``add.lua`` takes per job."""

    job_id: str
    message: str | bytes
    delay: int
    priority: int
    lifo: bool
    name: str
    dedup_id: str = ""
    dedup_ttl: int = 0
    dedup_mode: str = ""


@dataclass(frozen=True, slots=True)
class Failure:
    """How an attempt failed: the reason, its stack trace and how many traces to keep."""

    reason: str
    stack: str
    stack_limit: int


@dataclass(frozen=True, slots=True)
class Fetched:
    """A job a worker has just taken: its message and lock token."""

    job_id: str
    message: bytes
    attempts_made: int
    token: str


class QueueStore:
    """Reads and transitions of the jobs of one queue."""

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
        self.client = client
        self.clock = clock
        self.scripts = scripts
        self.queue_name = queue_name
        self.max_len = events_max_len
        self.keys = QueueKeys.for_queue(namespace, queue_name)
        k = self.keys
        self._add_keys = [
            k.wait,
            k.prioritized,
            k.delayed,
            k.marker,
            k.seq,
            k.events,
            k.idle,
            k.meta,
            k.active,
            k.handed,
        ]
        self._fetch_keys = [
            k.wait,
            k.prioritized,
            k.delayed,
            k.active,
            k.meta,
            k.seq,
            k.events,
            k.limited,
            k.limiter,
            k.idle,
            k.handed,
            k.failed,
        ]

    # -- producing ---------------------------------------------------------------------------

    def add_args(self, jobs: Sequence[Entry]) -> tuple[list[str], list[Any]]:
        """KEYS and ARGV of ``add.lua`` for these entries."""
        keys = list(self._add_keys)
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

    # -- consuming ---------------------------------------------------------------------------

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
            self._fetch_keys,
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
        return _fetched(out), (int(float(wake_in)) if wake_in else None), bool(limited), bool(registered)

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
        parked = _decoded(self.client.zrange(self.keys.limited, 0, -1))
        if parked:
            self.client.zadd(self.keys.limited, dict.fromkeys(parked, 0))

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
        k = self.keys
        code, out, registered = self.scripts.direct(
            "complete",
            [
                k.job_prefix + job_id,
                k.active,
                k.completed,
                k.events,
                k.wait,
                k.prioritized,
                k.delayed,
                k.meta,
                k.seq,
                k.idle,
                k.failed,
            ],
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
        return int(code), _fetched(out), bool(registered)

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
        return _ok(
            self.scripts(
                "fail",
                [k.job(job_id), k.active, k.failed, k.logs(job_id), k.events],
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
        k = self.keys
        return int(
            self.scripts(
                "retry",
                [k.job(job_id), k.active, k.wait, k.prioritized, k.delayed, k.marker, k.seq, k.events],
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
        k = self.keys
        keys = [k.active, k.wait, k.prioritized, k.marker, k.seq, k.events, k.idle, k.handed]
        return int(self.scripts("requeue", keys, args))

    def update_progress(self, job_id: str, token: str, progress_json: str) -> bool:
        k = self.keys
        return _ok(
            self.scripts(
                "update_progress", [k.job(job_id), k.events], [job_id, token, progress_json, self.max_len]
            )
        )

    def extend_locks(
        self, pairs: Sequence[tuple[str, str]], lock_ms: int, holder: str = ""
    ) -> tuple[list[str], list[str], list[str]]:
        """Renew held locks and register ``holder`` (see ``extend_locks.lua``); returns (ids with
        a cancel request, ids no longer held, ids taken back from a sweep)."""
        k = self.keys
        args: list[Any] = [lock_ms, k.job_prefix, holder, self.max_len]
        for job_id, token in pairs:
            args += (job_id, token)
        keys = [k.active, k.wait, k.prioritized, k.limited, k.holders, k.stall_grace, k.events]
        cancelled, lost, retaken = self.scripts("extend_locks", keys, args)
        return _decoded(cancelled), _decoded(lost), _decoded(retaken)

    def reclaim_stalled(
        self, max_stalled: int, interval_ms: int, lock_ms: int = 30_000
    ) -> list[tuple[str, str]]:
        """Sweep expired locks (one process per interval); returns (id, new state) pairs."""
        k = self.keys
        out = self.scripts(
            "stalled",
            [
                k.active,
                k.wait,
                k.prioritized,
                k.seq,
                k.marker,
                k.events,
                k.failed,
                k.stall_guard,
                k.idle,
                k.handed,
                k.holders,
                k.stall_grace,
            ],
            [self.clock(), k.job_prefix, max_stalled, self.max_len, interval_ms, lock_ms],
        )
        flat = _decoded(out)
        if flat:  # the all-time count Prometheus reads (pipeline_jobs_stalled_total)
            self.client.hincrby(k.metrics_prefix + "totals", "stalled", len(flat) // 2)
        return list(zip(flat[::2], flat[1::2], strict=True))

    # -- management --------------------------------------------------------------------------

    def remove(self, job_id: str) -> int:
        k = self.keys
        keys = [
            k.job(job_id),
            k.logs(job_id),
            k.wait,
            k.prioritized,
            k.delayed,
            k.completed,
            k.failed,
            k.events,
            k.limited,
        ]
        return int(self.scripts("remove", keys, [job_id, self.max_len, k.dedup_prefix]))

    def retry_failed(self, job_id: str) -> int:
        k = self.keys
        keys = [k.job(job_id), k.failed, k.wait, k.prioritized, k.marker, k.seq, k.events]
        return int(self.scripts("retry_failed", keys, [job_id, self.max_len]))

    def cancel(self, job_id: str, reason: str) -> int:
        k = self.keys
        keys = [k.job(job_id), k.wait, k.prioritized, k.delayed, k.failed, k.events, k.limited]
        return int(self.scripts("cancel", keys, [job_id, reason, self.clock(), self.max_len, k.dedup_prefix]))

    def reschedule(self, job_id: str, delay_ms: int) -> int:
        k = self.keys
        keys = [k.job(job_id), k.delayed, k.wait, k.prioritized, k.seq, k.marker, k.events]
        return int(self.scripts("reschedule", keys, [job_id, delay_ms, self.max_len]))

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

    def clean(self, cutoff_ms: float, state: str, limit: int) -> list[str]:
        k = self.keys
        key = k.completed if state == JobState.COMPLETED else k.failed
        ids = self.scripts(
            "clean", [key, k.events], [cutoff_ms, limit, k.job_prefix, k.logs_prefix, self.max_len, state]
        )
        return _decoded(ids)

    def drain(self, limit: int = 1000) -> int:
        k = self.keys
        keys = [k.wait, k.prioritized, k.delayed, k.events, k.limited]
        return int(self.scripts("drain", keys, [limit, k.job_prefix, k.logs_prefix, self.max_len]))

    def promote_all(self, limit: int) -> int:
        k = self.keys
        keys = [k.delayed, k.wait, k.prioritized, k.seq, k.marker, k.events]
        return int(self.scripts("promote_all", keys, [limit, k.job_prefix, self.max_len]))

    def retry_all(self, limit: int) -> int:
        k = self.keys
        keys = [k.failed, k.wait, k.prioritized, k.marker, k.seq, k.events]
        return int(self.scripts("retry_all", keys, [limit, k.job_prefix, self.max_len]))

    def obliterate(self, limit: int, force: bool) -> int:
        """Delete up to ``limit`` jobs in any state; ``Code.ACTIVE`` when some are active and not
        ``force``."""
        k = self.keys
        keys = [k.wait, k.prioritized, k.delayed, k.limited, k.completed, k.failed, k.active]
        args = [limit, k.job_prefix, k.logs_prefix, "1" if force else "0"]
        return int(self.scripts("obliterate", keys, args))

    def set_paused(self, paused: bool) -> bool:
        k = self.keys
        args = ["pause" if paused else "resume", self.max_len]
        return _ok(self.scripts("pause", [k.meta, k.marker, k.events], args))

    # -- reading -----------------------------------------------------------------------------

    def records(self, job_ids: Sequence[str]) -> list[dict[str, str] | None]:
        if not job_ids:
            return []
        prefix = self.keys.job_prefix
        raw = self.scripts("get_jobs", [prefix + job_id for job_id in job_ids], [])
        out: list[dict[str, str] | None] = []
        for flat in raw:
            if not flat:
                out.append(None)
                continue
            it = iter(flat)
            # surrogateescape: a message of a non-UTF-8 encoder (pickle) survives, byte for byte
            out.append({f.decode(): v.decode(errors="surrogateescape") for f, v in zip(it, it, strict=True)})
        return out

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
            out["paused"] = out[JobState.WAITING]
            out[JobState.WAITING] = 0
        return out

    def ids(self, state: str, start: int, end: int, asc: bool) -> list[str]:
        """Job ids of one state, paginated; ``asc`` lists the oldest (or next to run) first."""
        k = self.keys
        if state == JobState.WAITING:
            return self._waiting_ids(start, end, asc)
        key = getattr(k, state)
        raw = self.client.zrange(key, start, end) if asc else self.client.zrevrange(key, start, end)
        return _decoded(raw)

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
            ids += _decoded(self.client.zrange(k.prioritized, first, min(last, n_prio - 1)))
        if last >= n_prio and first < n_prio + n_list:
            a, b = max(first - n_prio, 0), min(last - n_prio, n_list - 1)
            ids += reversed(_decoded(self.client.lrange(k.wait, -(b + 1), -(a + 1))))
        if last >= n_prio + n_list:
            a, b = max(first - n_prio - n_list, 0), last - n_prio - n_list
            ids += _decoded(self.client.zrange(k.limited, a, b))
        if not asc:
            ids.reverse()
        return ids

    def logs(self, job_id: str, start: int, end: int) -> list[str]:
        return _decoded(self.client.lrange(self.keys.logs(job_id), start, end))

    def add_log(self, job_id: str, line: str) -> int:
        key = self.keys.logs(job_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.rpush(key, line)
        pipe.ltrim(key, -MAX_LOG_LINES, -1)
        return int(pipe.execute()[0])


def _fetched(out: Any) -> list[Fetched]:
    """Taken jobs from a script's flat reply: id, message, attempts made, token, ..."""
    return [
        Fetched(out[i].decode(), out[i + 1], int(out[i + 2]), out[i + 3].decode())
        for i in range(0, len(out), 4)
    ]


def pair_codes(reply: Any) -> list[tuple[int, str]]:
    """``add.lua``'s flat reply as (code, job id) pairs."""
    flat = list(reply)
    return [(int(flat[i]), flat[i + 1].decode()) for i in range(0, len(flat), 2)]


def _ok(reply: Any) -> bool:
    return int(reply) == 1


def _decoded(raw: Any) -> list[str]:
    return [item.decode() for item in cast(list[bytes], raw)]


def _normalise_range(start: int, end: int, total: int) -> tuple[int, int]:
    if start < 0:
        start = max(total + start, 0)
    if end < 0:
        end = total + end
    return start, min(end, total - 1)


def decode_json(raw: str | None) -> Any:
    return None if raw is None or raw == "" else json.loads(raw)


def inbox_entry(raw: bytes) -> Fetched:
    """A job handed to an idle consumer: ``"<token> <attempts> <id length> <id><message>"``."""
    token, attempts, id_len, rest = raw.split(b" ", 3)
    n = int(id_len)
    return Fetched(rest[:n].decode(), rest[n:], int(attempts), token.decode())
