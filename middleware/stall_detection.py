"""StallDetection: keeps this process's job locks alive and reclaims expired ones.

A job a worker holds has a lock (its score in the queue's ``active`` set).  A
thread renews the locks of every job this process holds every third of the
lock duration, whichever consumer object took it (Dramatiq rebuilds consumers
after errors while their jobs go on running in worker threads), and registers
the process in each served queue's holders set.  Every ``stalled_interval``
one process per queue (whichever gets there first; the shortest interval
among the queue's live workers sets the pace) moves jobs whose lock expired
back to waiting, or fails them past ``max_stalled_count``.  A worker killed,
frozen or stuck holding the GIL stops renewing, so its jobs come back within
lock duration + the shortest stalled interval.

After an outage every lock has lapsed at once: the sweep then gives live
workers one lock duration to renew before reclaiming (see
``scripts/includes/grace_floor.lua``), and a renewal takes back a job a sweep
moved meanwhile if no one took it since, so a live worker's job neither runs
twice nor counts a stall.

Dramatiq's own dead-worker requeue never applies here: the broker keeps no
per-worker ack sets, so there is no second copy to race.  A worker that comes
back after its job was taken by another presents a stale lock token and its
outcome is rejected.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from pipeline.connection import REDIS_ERRORS, UNAVAILABLE_ERRORS
from pipeline.listeners import dispatch, has_listeners
from pipeline.ports import JobBroker


class StallDetection(Middleware):
    """Renews held locks and sweeps expired ones, in a background thread per worker process."""

    def __init__(self) -> None:
        self.logger = logging.getLogger(__name__)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wanted: set[str] | None = None
        self.holder = ""

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        if not isinstance(broker, JobBroker):
            return
        settings = broker.settings
        self.holder = (
            f"{settings.stalled_interval_ms}|{settings.lock_duration_ms}|"
            f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        )
        wanted = getattr(worker, "consumer_whitelist", None)
        self._wanted = set(wanted) if wanted else None
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(broker,), name="stall-detection", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self, broker: JobBroker) -> None:
        settings = broker.settings
        renew_every = settings.lock_duration_ms / 3000
        sweep_every = settings.stalled_interval_ms / 1000
        next_renew = next_sweep = time.monotonic()
        while not self._stop.wait(min(renew_every, sweep_every, 0.5)):
            now = time.monotonic()
            try:
                if now >= next_renew:
                    next_renew = now + renew_every
                    self.renew(broker)
                if now >= next_sweep:
                    next_sweep = now + sweep_every
                    self.sweep(broker)
                broker.connection_watch.ok()
            except UNAVAILABLE_ERRORS as exc:
                broker.connection_watch.failed(exc, "lock renewal")
            except REDIS_ERRORS:
                self.logger.warning("Lock renewal or stall sweep failed; retrying.", exc_info=True)

    def _queues(self, broker: JobBroker) -> list[str]:
        """The queues this worker consumes.  Only those: sweeping a queue it merely declares
        would sweep on behalf of a worker that does not serve it."""
        wanted = self._wanted
        return sorted(q for q in broker.get_declared_queues() if wanted is None or q in wanted)

    def renew(self, broker: JobBroker) -> None:
        lock_ms = broker.settings.lock_duration_ms
        held = broker.held_jobs()
        for queue_name in sorted(set(self._queues(broker)) | set(held)):
            pairs = held.get(queue_name, [])
            _, lost, retaken = broker.store(queue_name).extend_locks(pairs, lock_ms, self.holder)
            for job_id in retaken:
                self.logger.warning(
                    "Took back job %r (queue %r): a sweep had moved it while Redis was out of reach, "
                    "and it is still running here.",
                    job_id,
                    queue_name,
                )
            for job_id in lost:
                self.logger.warning(
                    "Lost the lock of job %r (queue %r); its outcome will be rejected.", job_id, queue_name
                )

    def sweep(self, broker: JobBroker) -> None:
        settings = broker.settings
        for queue_name in self._queues(broker):
            queue = broker.queue(queue_name)
            reclaimed = queue.store.reclaim_stalled(
                settings.max_stalled_count, settings.stalled_interval_ms, settings.lock_duration_ms
            )
            for job_id, new_state in reclaimed:
                self.logger.warning("Job %r of queue %r stalled; now %s.", job_id, queue_name, new_state)
                if has_listeners(queue_name, "stalled"):
                    job = queue.get_job(job_id)
                    if job is not None:
                        dispatch(queue_name, "stalled", job)
