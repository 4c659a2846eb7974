"""Bull's Queue API, spelled the Python way.

A producer needs only queue and job names: it never imports the actors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, overload

import redis

from pipeline import wiring
from pipeline.clock import Clock, now_ms
from pipeline.codes import Code, check_job_code, check_queue_code
from pipeline.connection import follows_failovers, make_client, translate_errors
from pipeline.deprecated import renamed
from pipeline.errors import InvalidJobError, JobNotFoundError, QueueBusyError
from pipeline.job import Job
from pipeline.keys import RepeatKeys, queues_set, repeat_queues_set, repeat_version
from pipeline.listeners import dispatch, has_listeners
from pipeline.local_pause import LOCALLY_PAUSED
from pipeline.metrics import Metrics, get_metrics, get_workers
from pipeline.options import (
    MAX_DURATION_MS,
    check_index,
    check_text,
    validate_limiter,
    validate_queue_name,
)
from pipeline.prepare import prepare_bulk, prepare_job
from pipeline.repeat import RepeatableJob, RepeatStore, add_repeatable, remove_repeatable
from pipeline.replication import replicated_add
from pipeline.settings import Settings
from pipeline.states import FINAL_STATES, STATES, JobState, LocalEvent
from pipeline.store import Entry, QueueStore, pair_codes

#: Called with the number of jobs each batch of a long operation handled.
Progress = Callable[[int], None]
#: Jobs per atomic step of the queue-wide operations, so none blocks Redis for long.
BATCH = 1000


class Queue:
    """A named queue: add jobs, query them, manage the queue.

    ``Queue("email")`` uses the process's settings and Redis client; pass
    ``client=`` / ``settings=`` to use others.
    """

    def __init__(
        self,
        name: str,
        *,
        client: redis.Redis | None = None,
        settings: Settings | None = None,
        limiter: Mapping[str, Any] | None = None,
        wait_replicas: int | None = None,
        wait_timeout_ms: int | None = None,
        clock: Clock = now_ms,
    ) -> None:
        """``wait_replicas`` (default ``PIPELINE_WAIT_REPLICAS``, 0) is how many replicas every
        ``add()`` of this queue waits for, up to ``wait_timeout_ms`` (``PIPELINE_WAIT_TIMEOUT_MS``);
        see :meth:`add`.  ``clock`` is the local clock this queue stamps jobs with (see
        :mod:`pipeline.clock`)."""
        self.name = validate_queue_name(name)
        self.settings = settings or wiring.get_settings()
        self.client = client or (wiring.get_client() if settings is None else _client_for(settings))
        self.wait_replicas = _count(
            self.settings.wait_replicas if wait_replicas is None else wait_replicas, "wait_replicas", name
        )
        self.wait_timeout_ms = _count(
            self.settings.wait_timeout_ms if wait_timeout_ms is None else wait_timeout_ms,
            "wait_timeout_ms",
            name,
            minimum=1,
        )
        self._plain_adds = follows_failovers(self.client)
        self.store = QueueStore(
            self.client,
            wiring.scripts_for(self.client),
            self.settings.namespace,
            name,
            self.settings.events_max_len,
            clock=clock,
        )
        self._registered = False
        if limiter is not None:
            limit = validate_limiter(limiter, self.name)
            self.set_rate_limit(limit["max"], limit["duration"], limit.get("group_key"))

    def __repr__(self) -> str:
        return f"Queue({self.name!r})"

    # -- adding ------------------------------------------------------------------------------

    @overload
    def add(
        self,
        name: str,
        data: Mapping[str, Any] | None = None,
        *,
        repeat: None = None,
        wait_replicas: int | None = None,
        **opts: Any,
    ) -> Job: ...

    @overload
    def add(
        self,
        name: str,
        data: Mapping[str, Any] | None = None,
        *,
        repeat: Mapping[str, Any],
        wait_replicas: int | None = None,
        **opts: Any,
    ) -> Job | None: ...

    def add(
        self,
        name: str,
        data: Mapping[str, Any] | None = None,
        *,
        repeat: Any = None,
        wait_replicas: int | None = None,
        **opts: Any,
    ) -> Job | None:
        """Add one job; returns it (or the existing job when ``job_id`` is taken).

        With ``repeat={"cron": ..., "tz": ...}`` or ``repeat={"every": ms}`` (plus
        ``start_date``, ``end_date``, ``limit``) it stores a repeat definition that
        the ``pipeline scheduler`` process fires, and returns the pending occurrence:
        a delayed job with the id ``repeat:<id>:<fire ms>``.  Adding the same repeat
        again updates it.  Returns ``None`` when the repeat has nothing left to run
        (its ``limit`` or ``end_date`` reached).  See :mod:`pipeline.repeat`.

        ``wait_replicas=N`` (default: the queue's) returns only once N replicas of the
        master hold the job (Redis ``WAIT``), so it survives the master's loss; if fewer
        confirm within the queue's ``wait_timeout_ms``, :class:`ReplicationTimeoutError`
        is raised (the job *is* on the master: adding it again with its id is safe).
        """
        if repeat is not None:
            return add_repeatable(self, name, data, {**opts, "repeat": repeat})
        job, entry = prepare_job(self, name, data, opts)
        if wait_replicas is not None:
            wait_replicas = _count(wait_replicas, "wait_replicas", self.name)
        code, job_id = self.add_entries([entry], wait_replicas)[0]
        return job if code == Code.DONE else self._existing(job_id)

    def add_bulk(self, jobs: Iterable[Mapping[str, Any]], *, wait_replicas: int | None = None) -> list[Job]:
        """Add many jobs in one round trip.  Every job is checked before any is added.

        ``wait_replicas`` as in :meth:`add`, for the whole batch.
        """
        if wait_replicas is not None:
            wait_replicas = _count(wait_replicas, "wait_replicas", self.name)
        prepared = prepare_bulk(self, jobs)
        if not prepared:
            return []
        outcomes = self.add_entries([entry for _, entry in prepared], wait_replicas)
        return [
            job if code == Code.DONE else self._existing(job_id)
            for (job, _), (code, job_id) in zip(prepared, outcomes, strict=True)
        ]

    def add_entries(
        self, entries: Sequence[Entry], wait_replicas: int | None = None
    ) -> list[tuple[int, str]]:
        """Add jobs prepared by :mod:`pipeline.prepare`: (code, job id) per entry, as ``add.lua``
        returns them; ``wait_replicas`` ``None`` takes the queue's default (``actor.send`` too).

        The local ``waiting`` listeners hear of each job this call created waiting.
        """
        outcomes = self._store_entries(entries, wait_replicas)
        if has_listeners(self.name, LocalEvent.WAITING):
            for entry, (code, job_id) in zip(entries, outcomes, strict=True):
                if code == Code.DONE and entry.delay == 0:
                    dispatch(self.name, LocalEvent.WAITING, job_id)
        return outcomes

    @translate_errors
    def _store_entries(self, entries: Sequence[Entry], wait_replicas: int | None) -> list[tuple[int, str]]:
        if wait_replicas is None:
            wait_replicas = self.wait_replicas
        if self._registered and not wait_replicas and len(entries) <= 1000:
            return self.store.add(entries)
        if not self._registered and (self._plain_adds or wait_replicas):
            # The set of queue names may live on another cluster node than the queue.
            self.client.sadd(queues_set(self.settings.namespace), self.name)
            self._registered = True
        if wait_replicas:
            return replicated_add(self.store, entries, wait_replicas, self.wait_timeout_ms)
        if self._plain_adds:
            # A pipeline cannot reload a script a new master lacks (a promoted replica has none,
            # and a cluster pipeline never reloads); plain calls reload it and follow MOVED/ASK.
            outcomes: list[tuple[int, str]] = []
            for start in range(0, len(entries), 1000):
                outcomes += self.store.add(entries[start : start + 1000])
            return outcomes
        pipe = self.client.pipeline(transaction=False)
        if not self._registered:
            pipe.sadd(queues_set(self.settings.namespace), self.name)
        for start in range(0, len(entries), 1000):
            keys, args = self.store.add_args(entries[start : start + 1000])
            self.store.scripts("add", keys, args, client=pipe)
        replies = pipe.execute()
        self._registered = True
        outcomes = []
        for reply in replies[-((len(entries) + 999) // 1000) :]:
            outcomes += pair_codes(reply)
        return outcomes

    def _existing(self, job_id: str) -> Job:
        job = self.get_job(job_id)
        if job is None:  # removed between our add and this read
            raise JobNotFoundError(job_id, self.name)
        return job

    # -- reading -----------------------------------------------------------------------------

    def _id(self, job_id: Any) -> str:
        return check_text(str(job_id), "job id", self.name)

    @translate_errors
    def get_job(self, job_id: str) -> Job | None:
        """The job, or ``None`` when no such job exists.

        A record that cannot be decoded is returned too, marked: ``job.unreadable`` says why,
        ``job.raw_message`` holds its text.
        """
        job_id = self._id(job_id)
        record = self.store.records([job_id])[0]
        return None if record is None else Job.from_record(self, record, job_id)

    @translate_errors
    def get_jobs(
        self, states: str | Sequence[str] | None = None, start: int = 0, end: int = -1, asc: bool = False
    ) -> list[Job]:
        """Jobs in the given states.

        ``start``/``end`` page each state's listing, newest first unless ``asc``.
        """
        wanted = _states(states)
        start = check_index(start, "start", self.name)
        end = check_index(end, "end", self.name)
        ids: list[str] = []
        for state in wanted:
            ids += self.store.ids(state, start, end, asc)
        records = self.store.records(ids)
        return [Job.from_record(self, r, i) for i, r in zip(ids, records, strict=True) if r is not None]

    @translate_errors
    def get_job_counts(self, *states: str) -> dict[str, int]:
        """Number of jobs per state, O(1) each."""
        return self.store.counts(_states(states or None))

    def get_waiting_count(self) -> int:
        return self.get_job_counts(JobState.WAITING)[JobState.WAITING]

    def get_active_count(self) -> int:
        return self.get_job_counts(JobState.ACTIVE)[JobState.ACTIVE]

    def get_delayed_count(self) -> int:
        return self.get_job_counts(JobState.DELAYED)[JobState.DELAYED]

    def get_completed_count(self) -> int:
        return self.get_job_counts(JobState.COMPLETED)[JobState.COMPLETED]

    def get_failed_count(self) -> int:
        return self.get_job_counts(JobState.FAILED)[JobState.FAILED]

    @translate_errors
    def get_metrics(
        self, kind: str = JobState.COMPLETED, start: int = 0, end: int = -1, *, name: str | None = None
    ) -> Metrics:
        """Completed or failed jobs per minute (newest first) over minutes ``start``..``end`` ago,
        with duration percentiles and the oldest waiting job's age; one job name or all."""
        start = check_index(start, "start", self.name)
        end = check_index(end, "end", self.name)
        if name is not None:
            name = check_text(name, "name", self.name)
        return get_metrics(self, kind, start, end, name)

    @translate_errors
    def get_workers(self) -> list[dict[str, Any]]:
        """Live worker processes serving this queue: id, host, pid, queues, started, last_heartbeat."""
        return get_workers(self)

    @translate_errors
    def get_job_logs(self, job_id: str, start: int = 0, end: int = -1) -> list[str]:
        start = check_index(start, "start", self.name)
        end = check_index(end, "end", self.name)
        return self.store.logs(self._id(job_id), start, end)

    # -- managing ----------------------------------------------------------------------------

    @translate_errors
    def add_job_log(self, job_id: str, line: str) -> int:
        return self.store.add_log(self._id(job_id), check_text(line, "log line", self.name))

    @translate_errors
    def remove_job(self, job_id: str) -> None:
        job_id = self._id(job_id)
        self._check(self.store.remove(job_id), job_id, "remove")

    @translate_errors
    def retry_job(self, job_id: str) -> None:
        job_id = self._id(job_id)
        self._check(self.store.retry_failed(job_id), job_id, "retry")

    @translate_errors
    def cancel_job(self, job_id: str, reason: str = "cancelled") -> bool:
        """Cancel a job from any process.

        A waiting or delayed job fails at once with ``reason`` and never starts
        (returns True).  A running job is asked to stop (returns False): its
        handler sees ``current_job().is_cancelled()``, and its worker interrupts
        it after ``PIPELINE_CANCEL_GRACE_MS``; it then ends ``failed`` with the reason.
        """
        job_id = self._id(job_id)
        reason = check_text(str(reason), "cancel reason", self.name)
        return self._check(self.store.cancel(job_id, reason), job_id, "cancel") is Code.DONE

    @translate_errors
    def reschedule_job(self, job_id: str, delay_ms: int) -> None:
        """Run a delayed job ``delay_ms`` from now (0: now)."""
        if (
            isinstance(delay_ms, bool)
            or not isinstance(delay_ms, int)
            or not 0 <= delay_ms <= MAX_DURATION_MS
        ):
            raise InvalidJobError(
                f"delay must be an int from 0 to {MAX_DURATION_MS} (ms), got {delay_ms!r}", queue=self.name
            )
        job_id = self._id(job_id)
        self._check(self.store.reschedule(job_id, delay_ms), job_id, "reschedule")

    def _check(self, outcome: int, job_id: str, operation: str) -> Code:
        def state_now() -> str:
            job = self.get_job(job_id)
            return job.state if job else "gone"

        return check_job_code(
            outcome, job_id=job_id, queue=self.name, operation=operation, state_of=state_now
        )

    @translate_errors
    def clean(
        self,
        grace_ms: int | None = None,
        status: str = JobState.COMPLETED,
        limit: int | None = None,
        *,
        progress: Progress | None = None,
        grace: int | None = None,
    ) -> list[str]:
        """Delete ``status`` jobs (completed or failed) that finished more than ``grace_ms`` ms
        ago (default 0).  ``grace`` is its deprecated old name.

        Works in atomic batches of 1,000; ``progress`` is called with each batch's count.
        """
        grace_ms = renamed(grace_ms, grace, new="grace_ms", old="grace", owner="clean")
        grace = 0 if grace_ms is None else grace_ms
        if status not in FINAL_STATES:
            raise InvalidJobError(
                f"clean status must be 'completed' or 'failed', got {status!r}", queue=self.name
            )
        if isinstance(grace, bool) or not isinstance(grace, int) or not 0 <= grace <= MAX_DURATION_MS:
            raise InvalidJobError(
                f"clean grace must be an int from 0 to {MAX_DURATION_MS} (ms), got {grace!r}", queue=self.name
            )
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise InvalidJobError(f"clean limit must be an int >= 1, got {limit!r}", queue=self.name)
        # Finished jobs are scored on Redis's clock, to the microsecond: a whole-ms cutoff
        # missed jobs that finished earlier in the current millisecond.
        cutoff = self.store.finish_clock() - grace
        removed: list[str] = []
        while limit is None or len(removed) < limit:
            batch = BATCH if limit is None else min(BATCH, limit - len(removed))
            ids = self.store.clean(cutoff, status, batch)
            removed += ids
            if progress is not None and ids:
                progress(len(ids))
            if len(ids) < batch:
                break
        return removed

    @translate_errors
    def empty(self, *, progress: Progress | None = None) -> int:
        """Delete every waiting and delayed job (Bull's ``empty()``); returns how many.

        Works in atomic batches of 1,000; ``progress`` is called with each batch's count.
        """
        return _batched(self.store.drain, progress)

    @translate_errors
    def promote_jobs(self, count: int | None = None, *, progress: Progress | None = None) -> int:
        """Make delayed jobs waiting now, the soonest due first (Bull's ``promoteJobs``); all
        of them unless ``count``.  Returns how many; ``progress`` gets each batch's count."""
        count = _positive_or_none(count, "count", self.name)
        return _batched(self.store.promote_all, progress, count)

    @translate_errors
    def retry_jobs(
        self, state: str = JobState.FAILED, count: int | None = None, *, progress: Progress | None = None
    ) -> int:
        """Put failed jobs back to waiting, the oldest failure first (Bull's ``retryJobs``); all
        of them unless ``count``.  Each keeps its attempts made, as ``job.retry()`` does."""
        if state != JobState.FAILED:
            raise InvalidJobError(f"retry_jobs retries 'failed' jobs, got state {state!r}", queue=self.name)
        count = _positive_or_none(count, "count", self.name)
        return _batched(self.store.retry_all, progress, count)

    @translate_errors
    def obliterate(self, *, force: bool = False, progress: Progress | None = None) -> int:
        """Delete the queue entirely: every job in every state, its logs, events, metrics,
        repeats, settings and its name in the queue list (Bull's ``obliterate``).

        Refused with :class:`QueueBusyError` while jobs are running unless ``force``.  The
        queue is paused first so no worker starts another job meanwhile.  Returns how
        many jobs were deleted; ``progress`` gets each batch's count.
        """
        active = self.get_active_count()
        if active and not force:
            raise QueueBusyError(self.name, "obliterate", active)
        self.pause()

        def step(limit: int) -> int:
            # ACTIVE: a job started between the check and the pause
            n = self.store.obliterate(limit, force)
            return check_queue_code(n, queue=self.name, operation="obliterate", active=self.get_active_count)

        deleted = _batched(step, progress)
        pattern = _glob_escape(self.store.keys.base) + "*"
        had_repeats = self.client.exists(RepeatKeys.for_queue(self.settings.namespace, self.name).index)
        batch: list[bytes] = []
        for key in self.client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= BATCH:
                self.client.unlink(*batch)
                batch = []
        if batch:
            self.client.unlink(*batch)
        pipe = self.client.pipeline(transaction=False)
        pipe.srem(queues_set(self.settings.namespace), self.name)
        pipe.srem(repeat_queues_set(self.settings.namespace), self.name)
        if had_repeats:  # schedulers drop the queue's repeats at once
            pipe.incr(repeat_version(self.settings.namespace))
        pipe.execute()
        self._registered = False
        return deleted

    @translate_errors
    def exists(self) -> bool:
        """Whether a job was ever added to, or a worker ever served, this queue (and it was
        not obliterated since)."""
        return bool(self.client.sismember(queues_set(self.settings.namespace), self.name))

    @translate_errors
    def pause(self) -> None:
        """Stop every worker on every host from starting jobs of this queue; running jobs finish.

        Jobs added meanwhile wait (and count as ``paused``).  The flag lives in
        Redis, so it survives restarts of every process.
        """
        self.store.set_paused(True)

    @translate_errors
    def resume(self) -> None:
        """Let workers start jobs of this queue again (blocked workers wake at once)."""
        self.store.set_paused(False)

    @translate_errors
    def is_paused(self) -> bool:
        return self.client.hget(self.store.keys.meta, "paused") == b"1"

    def pause_local(self) -> None:
        """Stop only this process's workers from starting jobs of this queue (Bull's local pause)."""
        LOCALLY_PAUSED.add(self.name)

    def resume_local(self) -> None:
        LOCALLY_PAUSED.discard(self.name)

    @translate_errors
    def set_priority_aging(self, aging_ms: int | None) -> None:
        """Let a prioritized job move up one priority level for every ``aging_ms`` it waits,
        so low priorities cannot starve (``None`` turns aging off)."""
        if aging_ms is None:
            self.client.hdel(self.store.keys.meta, "aging_ms")
            return
        if (
            isinstance(aging_ms, bool)
            or not isinstance(aging_ms, int)
            or not 1 <= aging_ms <= MAX_DURATION_MS
        ):
            raise InvalidJobError(
                f"aging_ms must be an int from 1 to {MAX_DURATION_MS} (ms), got {aging_ms!r}", queue=self.name
            )
        self.client.hset(self.store.keys.meta, "aging_ms", aging_ms)

    # -- rate limit --------------------------------------------------------------------------

    @translate_errors
    def set_rate_limit(
        self,
        max: int,
        duration_ms: int | None = None,
        group_key: str | None = None,
        *,
        duration: int | None = None,
    ) -> None:
        """At most ``max`` jobs of this queue start in any window of ``duration_ms`` ms, across every
        worker; with ``group_key`` (a field of the job data) each of its values is limited apart.
        ``duration`` is its deprecated old name.

        A job over the limit keeps waiting: it uses no attempt and is not failed.
        """
        duration_ms = renamed(
            duration_ms, duration, new="duration_ms", old="duration", owner="set_rate_limit"
        )
        limit = validate_limiter({"max": max, "duration": duration_ms, "group_key": group_key}, self.name)
        self.store.set_limiter(limit["max"], limit["duration"], limit.get("group_key"))

    @translate_errors
    def remove_rate_limit(self) -> None:
        self.store.clear_limiter()

    @translate_errors
    def get_rate_limit(self) -> dict[str, Any] | None:
        return self.store.limiter()

    # -- repeats -----------------------------------------------------------------------------

    @translate_errors
    def get_repeatable_jobs(self) -> list[RepeatableJob]:
        """Every repeat definition of the queue, the next to run first (finished ones last)."""
        definitions = RepeatStore(self).all()
        return sorted(definitions, key=lambda d: (d.next_run is None, d.next_run or 0, d.key))

    @translate_errors
    def remove_repeatable(self, key: str) -> bool:
        """Stop the repeat with ``key`` (from ``get_repeatable_jobs``) and drop its pending occurrence.

        Returns ``False`` when no such repeat exists.
        """
        return remove_repeatable(self, key)


def _count(value: Any, name: str, queue: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidJobError(f"{name} must be an int >= {minimum}, got {value!r}", queue=queue, field=name)
    return value


def _states(states: str | Sequence[str] | None) -> list[str]:
    if states is None:
        return list(STATES)
    if isinstance(states, str):
        states = [states]
    out = []
    for state in states:
        if state not in STATES:
            raise InvalidJobError(f"unknown job state {state!r} (one of {', '.join(STATES)})")
        out.append(state)
    return out


def _batched(step: Callable[[int], int], progress: Progress | None, count: int | None = None) -> int:
    """Call ``step(at most n)`` until it handles nothing or ``count`` jobs are done (``None``:
    no cap); returns the total, telling ``progress`` each step's count."""
    total = 0
    while count is None or total < count:
        n = step(BATCH if count is None else min(BATCH, count - total))
        if n <= 0:
            break
        total += n
        if progress is not None:
            progress(n)
    return total


def _positive_or_none(value: Any, what: str, queue: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidJobError(f"{what} must be an int >= 1 or None, got {value!r}", queue=queue)
    return int(value)


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis MATCH pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


_clients: dict[str, redis.Redis] = {}


def _client_for(settings: Settings) -> redis.Redis:
    target = repr(
        (
            settings.resolved_redis_url(),
            settings.redis_sentinels,
            settings.redis_sentinel_master,
            settings.redis_cluster_nodes,
        )
    )
    client = _clients.get(target)
    if client is None:
        client = _clients[target] = make_client(settings)
    return client
