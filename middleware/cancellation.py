"""Cancellation: enforces ``job.cancel()`` on jobs running in this process.

A handler that checks ``current_job().is_cancelled()`` stops by itself; one that
does not is interrupted after ``PIPELINE_CANCEL_GRACE_MS`` the way Dramatiq's
time limit interrupts (an exception raised in its thread, so a blocking system
call is only interrupted when it returns).  Either way the job ends ``failed``
with the cancel reason.

A job this process has reserved but not started yet (prefetched) is watched too: once
its cancel is seen, it fails with the reason when its turn comes and its handler never
starts.  (A cancel that lands in the last poll interval before the start is enforced
as for a running job.)
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware, SkipMessage
from dramatiq.threading import raise_thread_exception

from pipeline.connection import REDIS_ERRORS, UNAVAILABLE_ERRORS
from pipeline.errors import UnrecoverableError
from pipeline.job_message import JobMessage
from pipeline.ports import JobBroker

POLL_S = 0.2


class JobInterrupted(UnrecoverableError):
    """Raised inside a handler whose job was cancelled and did not stop within the grace period."""


@dataclass
class _Running:
    thread_id: int
    message: JobMessage
    cancel_seen: float | None = None
    interrupted: bool = False


class Cancellation(Middleware):
    """Watches the jobs running in this process for cancel requests."""

    def __init__(self) -> None:
        self.logger = logging.getLogger(__name__)
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cancelled_early: dict[str, str] = {}

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        if isinstance(broker, JobBroker):
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._watch, args=(broker,), name="cancellation", daemon=True
            )
            self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self._stop.set()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if isinstance(message, JobMessage):
            with self._lock:
                reason = self._cancelled_early.pop(message.job_id, None)
                if reason is None:
                    self._running[message.job_id] = _Running(threading.get_ident(), message)
            if reason is not None:
                # As Dramatiq's AgeLimit does: Dramatiq lets only SkipMessage out of a hook;
                # a failed, skipped message is nacked, which fails the job with the reason.
                self.logger.info("Job %r was cancelled before it started.", message.job_id)
                message.fail(reason)
                raise SkipMessage()

    def after_process_message(
        self, broker: dramatiq.Broker, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        if isinstance(message, JobMessage):
            with self._lock:
                self._running.pop(message.job_id, None)
                self._cancelled_early.pop(message.job_id, None)

    after_skip_message = after_process_message

    def _watch(self, broker: JobBroker) -> None:
        grace_s = broker.settings.cancel_grace_ms / 1000
        while not self._stop.wait(POLL_S):
            with self._lock:
                running = list(self._running.values())
                started = set(self._running) | set(self._cancelled_early)
            held = [
                (queue_name, job_id)
                for queue_name, pairs in broker.held_jobs().items()
                for job_id, _ in pairs
            ]
            waiting = [(queue_name, job_id) for queue_name, job_id in held if job_id not in started]
            with self._lock:  # a job given back (requeued) is no longer ours to fail
                for job_id in set(self._cancelled_early) - {job_id for _, job_id in held}:
                    del self._cancelled_early[job_id]
            if not running and not waiting:
                continue
            try:
                pipe = broker.client.pipeline(transaction=False)
                for entry in running:
                    pipe.hget(
                        broker.store(entry.message.queue_name).keys.job(entry.message.job_id), "cancelled"
                    )
                for queue_name, job_id in waiting:
                    pipe.hget(broker.store(queue_name).keys.job(job_id), "cancelled")
                replies = pipe.execute()
            except UNAVAILABLE_ERRORS as exc:
                broker.connection_watch.failed(exc, "checking for cancelled jobs")
                continue
            except REDIS_ERRORS:
                self.logger.warning("Could not check for cancelled jobs.", exc_info=True)
                continue
            reasons = replies[: len(running)]
            with self._lock:
                for (_, job_id), reason in zip(waiting, replies[len(running) :], strict=True):
                    if reason is not None and job_id not in self._running:
                        self._cancelled_early[job_id] = reason.decode()
            now = time.monotonic()
            for entry, reason in zip(running, reasons, strict=True):
                if reason is None or entry.interrupted:
                    continue
                if entry.cancel_seen is None:
                    entry.cancel_seen = now
                if now - entry.cancel_seen >= grace_s:
                    with self._lock:
                        if self._running.get(entry.message.job_id) is not entry:
                            continue  # it finished meanwhile
                        entry.interrupted = True
                        entry.message.cancelled(reason.decode())
                        self.logger.warning("Interrupting cancelled job %r.", entry.message.job_id)
                        raise_thread_exception(entry.thread_id, JobInterrupted)
