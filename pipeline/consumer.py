"""The worker side of the broker: take jobs, report their outcome.

A taken job is ``active`` in Redis at once, with a lock token; the outcome
(complete, retry or fail) is written by one script that checks the token, so
a late or duplicate report can never overwrite what another worker recorded.
An idle consumer registers for direct handoffs and blocks on its inbox and the
queue's doorbell instead of polling: a job added to an empty queue arrives in
the inbox already taken, with no second round trip (see
``scripts/includes/register_idle.lua``).
"""

from __future__ import annotations

import collections
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import redis
from dramatiq.broker import Consumer, MessageProxy
from dramatiq.errors import ActorNotFound
from dramatiq.logging import get_logger
from dramatiq.message import Message
from dramatiq.middleware import SkipMessage, TimeLimitExceeded
from redis.exceptions import AskError, MovedError

from pipeline.codes import Code
from pipeline.connection import REDIS_ERRORS, UNAVAILABLE_ERRORS, node_pool
from pipeline.encoding import decode_message
from pipeline.errors import UnknownJobNameError, UnreadableJobError
from pipeline.job_message import JobMessage as JobMessage  # re-exported: it used to live here
from pipeline.job_message import Outcome
from pipeline.options import DEFAULT_STACKTRACE_LIMIT, keep_count
from pipeline.ports import ConsumerBroker
from pipeline.store import Failure, Fetched, QueueStore

#: How long a consumer waits for a worker thread to start a job handed to it directly.
HANDOFF_YIELD_S = 0.005
#: How long a consumer that could not reach Redis waits before trying again (Dramatiq's loop,
#: which checks for shutdown, runs in between).
RECONNECT_PAUSE_S = 0.5
#: Longest wait between two attempts to record an outcome while Redis is out of reach.
REPORT_RETRY_MAX_S = 1.0
#: The job name an unreadable job's failure is counted under in the metrics.
UNREADABLE_NAME = "(unreadable)"
#: A worker-side script's code (complete.lua, retry.lua) as the outcome it records; any
#: other code (NOT_HELD) means the job is no longer this worker's: "rejected".
_COMPLETE_OUTCOMES: dict[int, Outcome] = {
    Code.DONE: Outcome.COMPLETED,
    Code.CANCEL_PENDING: Outcome.CANCELLED,
}
_RETRY_OUTCOMES: dict[int, Outcome] = {Code.DONE: Outcome.RETRIED, Code.CANCEL_PENDING: Outcome.CANCELLED}


class JobConsumer(Consumer):
    """Takes jobs of one queue for one worker process."""

    def __init__(self, broker: ConsumerBroker, queue_name: str, prefetch: int, timeout: int) -> None:
        self.logger = get_logger(__name__, type(self))
        self.broker = broker
        self.queue_name = queue_name
        self.store: QueueStore = broker.store(queue_name)
        # Dramatiq asks for twice its thread count; reserving that many would let a
        # busy worker sit on jobs others could start, and blur global priorities.
        self.threads = max(1, prefetch // 2)
        self.prefetch = self.threads + broker.settings.prefetch
        self.timeout = timeout
        self.lock_ms = broker.settings.lock_duration_ms
        self.cache: collections.deque[JobMessage] = collections.deque()
        # Dramatiq's consumer thread builds this consumer: a worker thread that takes the
        # next job while completing one hands it straight to that thread's work queue.
        current = threading.current_thread()
        self.handoff = getattr(current, "handle_message", None)
        self.taking = 0
        self.closed = False
        self.taking_lock = threading.Lock()
        self.capacity = threading.Event()
        # Registration for direct handoffs; the lock duration travels in the member. A consumer
        # that Dramatiq's consumer thread rebuilds (after a connection error) keeps the thread's
        # member, so it finds in its inbox what was handed to it meanwhile.
        self.idle_member = (
            getattr(current, "pipeline_idle_member", "") or f"{self.lock_ms}|{uuid.uuid4().hex}"
        )
        if self.handoff is not None:
            current.pipeline_idle_member = self.idle_member  # type: ignore[attr-defined]
        #: The jobs this consumer thread holds, keyed by (job id, lock token): shared with the
        #: consumers it rebuilds and read by lock renewal (see PipelineBroker.holding).  Keyed
        #: by token, so releasing a first run's rejected report never drops the re-run's hold.
        self.outstanding = broker.holding(self.idle_member, queue_name)
        self.registered = False
        # Re-registered at every empty fetch, so a lapsed registration is a worker that went away;
        # it lapses well before a handed job's lock, so the sweep returns that job unstalled.
        self.idle_ttl_ms = min(self.timeout + 1000, self.lock_ms // 2)
        # A registered consumer blocks for less than its registration lasts, so it never lapses
        # while alive (only a short lock duration makes this shorter than the timeout).
        self.idle_wait_s = max(self.idle_ttl_ms - 200, self.idle_ttl_ms / 2) / 1000
        self.handed: threading.Event | None = None
        self._wait_connection: redis.Connection | None = None

    @property
    def outstanding_message_count(self) -> int:
        return len(self.outstanding)

    def __next__(self) -> MessageProxy | None:
        try:
            if self.cache:
                return self.cache.popleft()
            if self.handed is not None:
                # Let the worker thread start the job just handed over before this thread
                # runs Python again: both need the GIL, and the start is what is waited on.
                self.handed.wait(HANDOFF_YIELD_S)
                self.handed = None
            if self.queue_name in self.broker.locally_paused:
                self._leave_idle()
                time.sleep(min(self.timeout / 1000, 0.1))
                return None
            free = self.prefetch - len(self.outstanding) - self.taking
            # A busy worker mostly gets its next jobs from completions (see _complete).
            if free <= 0:
                self._leave_idle()
                self.capacity.wait(self.timeout / 1000)
                self.capacity.clear()
                return None
            for woken in (False, True):
                # Only a consumer with a thread free takes jobs handed to it directly.
                ttl = self.idle_ttl_ms if len(self.outstanding) + self.taking < self.threads else 0
                jobs, due_in, limited, self.registered = self.store.fetch(
                    free, self.lock_ms, self.idle_member, ttl
                )
                self.broker.connection_watch.ok()
                # Under a rate limit, reserve only what threads can start now: a start is counted
                # when a job is taken, so a job waiting in this process would start late.
                self.prefetch = self.threads if limited else self.threads + self.broker.settings.prefetch
                if jobs:
                    return self._hold(jobs)  # None when every job taken was unreadable
                if woken:
                    return None
                wait_s = (
                    min(self.timeout / 1000, self.idle_wait_s) if self.registered else self.timeout / 1000
                )
                if due_in is not None:
                    wait_s = min(wait_s, max(due_in, 1) / 1000)
                # The inbox is read even when not registered: a job handed just before the
                # registration ended is already this consumer's.
                try:
                    got = self.store.wait_for_work(wait_s, self.idle_member, self._own_connection())
                except AskError as moved:
                    got = self._slot_moved(moved)
                if isinstance(got, Fetched):
                    self.registered = False  # the handoff took this consumer off the idle set
                    if self.queue_name in self.broker.locally_paused:
                        self.store.requeue([(got.job_id, got.token)])
                        return None
                    message = self._hold([got])
                    if message is not None:
                        message.started = self.handed = threading.Event()
                    return message
                if not got:
                    return None
                # Rung: fetch again right away rather than going round the consumer thread's loop.
            return None
        except UNAVAILABLE_ERRORS as exc:
            # Not raised to Dramatiq: its consumer thread would log a traceback and rebuild the
            # consumer every few seconds for nothing.  The jobs held stay held meanwhile.
            self.broker.connection_watch.failed(exc, f"consumer of queue {self.queue_name!r}")
            self.registered = False
            # Blocked again on a new connection, to the server holding the queue by then (after a
            # failover, the promoted replica).
            self._drop_wait_connection()
            time.sleep(min(self.timeout / 1000, RECONNECT_PAUSE_S))
            return None

    def _hold(self, jobs: list[Fetched]) -> JobMessage | None:
        for fetched in jobs:
            message = self._readable(fetched)
            if message is not None:
                self.cache.append(message)
        return self.cache.popleft() if self.cache else None

    def _readable(self, fetched: Fetched) -> JobMessage | None:
        """Hold a taken job and return its message; an unreadable one is failed at once instead.

        A record that cannot be decoded never reaches Dramatiq: raising here would end the
        consumer loop, lose the other jobs of the batch and stall this one.
        """
        self.outstanding[fetched.job_id, fetched.token] = None
        try:
            message = self._proxy(fetched)
            message.held_in = self.outstanding
            return message
        except UnreadableJobError as exc:
            reason = f"unreadable job record: {exc.reason}"
        try:
            failed = self.store.fail(
                fetched.job_id, fetched.token, Failure(reason, reason, 0), -1, UNREADABLE_NAME, False
            )
        finally:
            self._release(fetched.job_id, fetched.token)
        self.logger.warning(
            "Job %r of queue %r %s: %s.",
            fetched.job_id,
            self.queue_name,
            "failed" if failed else "was taken away before it could be failed",
            reason,
        )
        return None

    def _own_connection(self) -> redis.Connection:
        """The connection this consumer blocks on: its own, outside the client's pool."""
        if self._wait_connection is None:
            pool = node_pool(self.store.client, self.store.keys.marker)
            self._wait_connection = pool.connection_class(**pool.connection_kwargs)
        # Connected here, not by the send: a Sentinel-managed connection asks the Sentinels for
        # the master only in connect() (a send alone would go to its last or default address).
        self._wait_connection.connect()
        return self._wait_connection

    def _slot_moved(self, redirect: AskError) -> bool:
        """The queue's cluster slot moved (MOVED) or is moving (ASK) to another master: block there
        from now on.  The fetch that follows goes through the cluster client, which follows the
        redirect and learns the new owner; a job handed to the inbox meanwhile moves with it."""
        self._drop_wait_connection()
        if not isinstance(redirect, MovedError):
            time.sleep(0.05)  # keys are migrating: let the move finish rather than spin
        return True

    def _drop_wait_connection(self) -> None:
        if self._wait_connection is not None:
            self._wait_connection.disconnect()
            self._wait_connection = None

    def _leave_idle(self) -> None:
        """Stop taking direct handoffs; anything already handed over goes back to waiting."""
        if self.registered:
            self.registered = False
            self.store.requeue([], self.idle_member)

    def _proxy(self, fetched: Fetched) -> JobMessage:
        fields = decode_message(fetched.message, self.queue_name, fetched.job_id)
        fields["args"] = tuple(fields["args"])
        job_name = fields["actor_name"]
        actor_name = self.broker.resolve_actor(self.queue_name, job_name)
        if actor_name is not None:
            fields["actor_name"] = actor_name  # the stored name is the job's; Dramatiq wants the actor's
        fields["message_id"] = fetched.job_id  # a debounced job keeps its id, takes new data
        reason = None if actor_name is not None else str(UnknownJobNameError(job_name, self.queue_name))
        return JobMessage(Message(**fields), fetched, job_name, reason=reason)

    def ack(self, message: MessageProxy) -> None:
        if _fails_on_ack(message):
            # Before the transition, so a join that sees the queue empty also sees the failure.
            self.broker.record_dead_letter(message)
        job = message if isinstance(message, JobMessage) else self._held(message, "ack")
        if job is not None:
            self._report(job, self._ack)

    def nack(self, message: MessageProxy) -> None:
        self.broker.record_dead_letter(message)
        job = message if isinstance(message, JobMessage) else self._held(message, "nack")
        if job is not None:
            self._report(job, self._nack)

    def _report(self, message: JobMessage, report: Callable[[JobMessage], None]) -> None:
        """Record a job's outcome.  While Redis is out of reach the job stays held, so its lock
        goes on being renewed, and the report is tried again (backing off to once a second)
        until it is recorded, or until the worker shuts down (the job is then recovered as
        stalled and runs again: the one case a finished job runs twice without a crash)."""
        pause = 0.05
        try:
            while True:
                try:
                    report(message)
                    self.broker.connection_watch.ok()
                    return
                except UNAVAILABLE_ERRORS as exc:
                    self.broker.connection_watch.failed(
                        exc, f"recording the outcome of job {message.job_id!r}"
                    )
                    message.retrying = True
                if self.broker.stopping.wait(pause):
                    self.logger.warning(
                        "Could not record the outcome of job %r (queue %r) before shutting down: Redis "
                        "is out of reach. It will be recovered as stalled and run again.",
                        message.job_id,
                        self.queue_name,
                    )
                    return
                pause = min(pause * 2, REPORT_RETRY_MAX_S)
        finally:
            # Whichever consumer reports it (Dramatiq reports through the one it has now).
            if message.held_in is not None and message.held_in is not self.outstanding:
                message.held_in.pop((message.job_id, message.token), None)
            self._release(message.job_id, message.token)

    def _ack(self, message: JobMessage) -> None:
        exception = message._exception
        delay = message.retry_delay
        if delay is not None:
            code = self.store.retry(message.job_id, message.token, delay, self._failure(message))
            message.recorded(_RETRY_OUTCOMES.get(code, Outcome.REJECTED))
        elif exception is not None and not isinstance(exception, SkipMessage):
            # Without a Retries middleware Dramatiq would call this "done"; a job that raised failed.
            self._fail(message)
        else:
            self._complete(message)
        if message.outcome is Outcome.CANCELLED:
            self._fail(message, self._cancel_reason(message))
        if message.outcome is Outcome.REJECTED:
            self._log_rejected(message, "outcome")

    def _nack(self, message: JobMessage) -> None:
        self._fail(message)
        if message.outcome is Outcome.REJECTED:
            self._log_rejected(message, "failure")

    def _log_rejected(self, message: JobMessage, what: str) -> None:
        if message.retrying:
            self.logger.info(
                "Job %r (queue %r): its %s was recorded by an attempt whose reply the dropped "
                "connection lost, or the job was taken away meanwhile.",
                message.job_id,
                self.queue_name,
                what,
            )
            return
        self.logger.warning(
            "Rejected the %s of job %r (queue %r): this worker no longer holds it "
            "(removed, or reclaimed after its lock expired).",
            what,
            message.job_id,
            self.queue_name,
        )

    def requeue(self, messages: Any) -> None:
        pairs = []
        for message in messages:
            job_id = getattr(message, "job_id", None)
            token = getattr(message, "token", None)
            holding = getattr(message, "held_in", None)
            if holding is None:
                holding = self.outstanding
            if job_id and token and holding.pop((job_id, token), False) is None:
                pairs.append((job_id, token))
        if pairs:
            self.logger.debug("Putting back %d unstarted jobs on queue %r.", len(pairs), self.queue_name)
        try:
            if self.closed:  # a closing consumer also leaves the idle set, returning what it was handed
                self.registered = False
                self.store.requeue(pairs, self.idle_member)
            elif pairs:
                self.store.requeue(pairs)
        except UNAVAILABLE_ERRORS as exc:
            # They are no longer held here: stall recovery returns them (they never started).
            self.broker.connection_watch.failed(exc, f"putting back {len(pairs)} unstarted jobs")
        self.capacity.set()

    def close(self) -> None:
        self.closed = True
        cached = list(self.cache)
        self.cache.clear()
        try:
            # Also ends the idle registration and returns anything handed to the inbox meanwhile.
            self.requeue(cached)
        except REDIS_ERRORS as exc:
            self.logger.warning("Could not put back %d unstarted jobs: %s.", len(cached), exc)
        if self._wait_connection is not None:
            self._wait_connection.disconnect()
        if self.handoff is None:  # a consumer thread's holding outlives its consumers; others' not
            self.broker.drop_holding(self.idle_member)

    # -- helpers ------------------------------------------------------------------------------

    def _held(self, message: Any, verb: str) -> JobMessage | None:
        """The job of a plain Dramatiq message (its id is the job id), if this consumer holds it.

        As in Dramatiq, acking or nacking a message the consumer does not hold does nothing.
        """
        job_id = str(getattr(message, "message_id", ""))
        token = next((t for j, t in list(self.outstanding) if j == job_id), None)
        if token is None:
            self.logger.debug("Ignored %s of message %r: this consumer does not hold it.", verb, job_id)
            return None
        plain = getattr(message, "_message", message)
        held = JobMessage(plain, Fetched(job_id, b"", 0, token), self.broker.job_name_of(plain.actor_name))
        held._exception = getattr(message, "_exception", None)
        return held

    def _release(self, job_id: str, token: str) -> None:
        self.outstanding.pop((job_id, token), None)
        # Wake the consumer thread only when this left a slot free.  A busy worker's completion
        # took its next job in the same call and left none: waking the consumer thread for
        # nothing cost a thread switch per job.  (Its wait is bounded by the timeout anyway.)
        if self.closed or self.prefetch - len(self.outstanding) - self.taking > 0:
            self.capacity.set()

    def _option(self, message: JobMessage, name: str, default: Any) -> Any:
        if name in message.options:
            return message.options[name]
        try:
            return self.broker.get_actor(message.actor_name).options.get(name, default)
        except ActorNotFound:
            return default

    def _complete(self, message: JobMessage) -> None:
        try:
            result = message.result
            # Most handlers return nothing: skip building a JSON encoder for that.
            result_json = (
                "null" if result is None else json.dumps(result, separators=(",", ":"), allow_nan=False)
            )
        except (TypeError, ValueError) as exc:
            self._fail(message, f"job result is not JSON-serialisable: {exc}")
            return
        keep = keep_count(self._option(message, "remove_on_complete", None))
        take = idle_ttl = 0
        # A report tried again after a dropped connection takes nothing: the first attempt may
        # have taken jobs whose reply was lost.
        if self.handoff is not None and not self.cache and not self.closed and not message.retrying:
            with self.taking_lock:  # this job's slot frees as it completes
                take = max(0, self.prefetch - len(self.outstanding) - self.taking + 1)
                # With nothing left to take, a worker whose thread is now free goes idle in the
                # same call: its consumer thread may be blocked on the inbox without a registration.
                if len(self.outstanding) - 1 + self.taking < self.threads:
                    idle_ttl = self.idle_ttl_ms
                self.taking += take
        try:
            code, taken, registered = self.store.complete(
                message.job_id,
                message.token,
                result_json,
                keep,
                message.job_name,
                self._dedup_id(message),
                take,
                self.lock_ms,
                self.idle_member,
                idle_ttl,
            )
            messages = [self._readable(fetched) for fetched in taken]
            if registered:
                self.registered = True
        finally:
            with self.taking_lock:
                self.taking -= take
        message.recorded(_COMPLETE_OUTCOMES.get(code, Outcome.REJECTED))
        if self.handoff is not None:
            for taken_message in messages:
                if taken_message is not None:
                    self.handoff(taken_message)

    def _fail(self, message: JobMessage, reason: str | None = None) -> None:
        """Fail the job, with ``reason`` (the consumer's own: an unstorable result, a cancel)
        before the one decided, before its error's text."""
        keep = keep_count(self._option(message, "remove_on_fail", None))
        failure = self._failure(message, reason)
        ok = self.store.fail(
            message.job_id,
            message.token,
            failure,
            keep,
            message.job_name,
            message.retries_exhausted,
            self._dedup_id(message),
        )
        message.recorded(Outcome.FAILED if ok else Outcome.REJECTED, failure.reason)

    @staticmethod
    def _dedup_id(message: JobMessage) -> str:
        """The deduplication id this job holds until it finishes (none for ttl-bound ones)."""
        dedup = message.options.get("deduplication")
        if isinstance(dedup, dict) and not dedup.get("ttl"):
            return str(dedup.get("id", ""))
        return ""

    def _cancel_reason(self, message: JobMessage) -> str:
        raw = self.store.client.hget(self.store.keys.job(message.job_id), "cancelled")
        return raw.decode() if isinstance(raw, bytes) else "cancelled"

    def _failure(self, message: JobMessage, reason: str | None = None) -> Failure:
        limit = int(self._option(message, "stacktrace_limit", DEFAULT_STACKTRACE_LIMIT))
        exception = message._exception
        reason = reason or message.failure_reason
        if not reason:
            if isinstance(exception, TimeLimitExceeded):
                reason = f"timeout of {self._time_limit(message)} ms exceeded"
            elif exception is not None:
                reason = str(exception) or type(exception).__name__
            else:
                reason = "failed"
        stack = reason
        if exception is not None and limit > 0:
            stack = "".join(traceback.format_exception(exception, limit=-limit))
        return Failure(reason, stack, limit)

    def _time_limit(self, message: JobMessage) -> int:
        limit = self._option(message, "time_limit", None)
        if limit is None:
            limit = self.broker.default_time_limit()
        return int(limit)


def _fails_on_ack(message: Any) -> bool:
    """Whether acking this message fails its job: it raised, and no retry was decided."""
    exception = getattr(message, "_exception", None)
    return (
        exception is not None
        and getattr(message, "retry_delay", None) is None
        and not isinstance(exception, SkipMessage)
    )
