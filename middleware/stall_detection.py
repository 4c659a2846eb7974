"""StallDetection: keeps this process's job locks alive and reclaims expired ones.

A job a worker holds has a lock (its score in the queue's ``active`` set).  A
thread renews the locks of every job this process holds every third of the
lock duration; every ``stalled_interval`` one process per queue (whichever
gets there first) moves jobs whose lock expired back to waiting, or fails them
past ``max_stalled_count``.  A worker killed, frozen or stuck holding the GIL
stops renewing, so its jobs come back within lock duration + stalled interval.

Dramatiq's own dead-worker requeue never applies here: the broker keeps no
per-worker ack sets, so there is no second copy to race.  A worker that comes
back after its job was reclaimed presents a stale lock token and its outcome is
rejected.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from pipeline.broker import PipelineBroker
from pipeline.connection import REDIS_ERRORS
from pipeline.listeners import dispatch, has_listeners


class StallDetection(Middleware):
    """Renews held locks and sweeps expired ones, in a background thread per worker process."""

    def __init__(self) -> None:
        self.logger = logging.getLogger(__name__)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        if not isinstance(broker, PipelineBroker):
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(broker,), name="stall-detection", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self, broker: PipelineBroker) -> None:
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
            except REDIS_ERRORS:
                self.logger.warning("Lock renewal or stall sweep failed; retrying.", exc_info=True)

    def renew(self, broker: PipelineBroker) -> None:
        lock_ms = broker.settings.lock_duration_ms
        for queue_name, pairs in broker.held_jobs().items():
            _, lost = broker.store(queue_name).extend_locks(pairs, lock_ms)
            for job_id in lost:
                self.logger.warning(
                    "Lost the lock of job %r (queue %r); its outcome will be rejected.", job_id, queue_name
                )

    def sweep(self, broker: PipelineBroker) -> None:
        settings = broker.settings
        for queue_name in broker.get_declared_queues():
            queue = broker.queue(queue_name)
            reclaimed = queue.store.reclaim_stalled(settings.max_stalled_count, settings.stalled_interval_ms)
            for job_id, new_state in reclaimed:
                self.logger.warning("Job %r of queue %r stalled; now %s.", job_id, queue_name, new_state)
                if has_listeners(queue_name, "stalled"):
                    job = queue.get_job(job_id)
                    if job is not None:
                        dispatch(queue_name, "stalled", job)
