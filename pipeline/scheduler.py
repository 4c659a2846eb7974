"""The scheduler process (``pipeline scheduler``): fires every queue's repeats with APScheduler.

It holds no state of its own.  The definitions live in Redis; the process reads
them (again whenever a definition is added, changed or removed anywhere, seen
through one counter it polls), gives each to an APScheduler
``BackgroundScheduler`` as a job with the definition's :class:`RepeatTrigger`, and
on each fire calls :func:`pipeline.repeat.advance`, which claims the fire
atomically and adds the next occurrence.  Run one per deployment, or several for
availability: a fire is claimed once whichever of them gets there first.

APScheduler runs each definition with ``coalesce=True``, no misfire grace limit
and one instance at a time: a scheduler that was stopped or late fires once, and
:func:`~pipeline.repeat.advance` turns the missed fires into one run.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from dataclasses import dataclass
from datetime import UTC

import redis
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from pipeline import wiring
from pipeline.alerts import start_alerts
from pipeline.clock import Clock, now_ms
from pipeline.connection import REDIS_ERRORS, make_client, ping
from pipeline.deprecated import renamed
from pipeline.errors import PipelineError
from pipeline.keys import repeat_queues_set, repeat_version
from pipeline.queue import Queue
from pipeline.repeat import RepeatableJob, RepeatStore, advance
from pipeline.settings import Settings
from pipeline.triggers import from_ms

logger = logging.getLogger(__name__)

#: How often a scheduler checks whether any definition changed (seconds).
DEFAULT_POLL_INTERVAL_S = 0.5
#: How often it reads every definition even when nothing signalled a change (seconds).
FULL_SYNC_INTERVAL = 30.0


@dataclass(frozen=True, slots=True)
class _Scheduled:
    queue: str
    definition_id: str
    rev: int


#: What a scheduler rides out (logged, tried again): Redis out of reach, a failover, a lost definition.
PASSING_ERRORS: tuple[type[Exception], ...] = (*REDIS_ERRORS, PipelineError)


class RepeatScheduler:
    """Keeps an APScheduler ``BackgroundScheduler`` in step with the repeat definitions in Redis."""

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        client: redis.Redis | None = None,
        poll_interval_s: float | None = None,
        threads: int = 4,
        clock: Clock = now_ms,
        poll_interval: float | None = None,
    ) -> None:
        """``poll_interval_s`` is how often the definitions are read again (``poll_interval`` is
        its deprecated old name); ``clock`` is the local clock (:mod:`pipeline.clock`)."""
        self.clock = clock
        self.settings = settings or wiring.get_settings()
        self._owns_client = client is None
        self.client = client or make_client(self.settings)
        poll_interval_s = renamed(
            poll_interval_s,
            poll_interval,
            new="poll_interval_s",
            old="poll_interval",
            owner="RepeatScheduler",
        )
        self.poll_interval_s = DEFAULT_POLL_INTERVAL_S if poll_interval_s is None else poll_interval_s
        self._aps = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(threads)},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        self._scheduled: dict[str, _Scheduled] = {}
        self._queues: dict[str, Queue] = {}
        self._version: bytes | str | None = None
        self._next_full_sync = 0.0
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> RepeatScheduler:
        ping(self.client)
        self._aps.start()
        self.sync(force=True)
        return self

    def run(self, stop: threading.Event) -> None:
        """Follow the definitions until ``stop`` is set."""
        while not stop.wait(self.poll_interval_s):
            try:
                self.sync()
            except PASSING_ERRORS as exc:
                logger.warning("Cannot read repeat definitions (will retry): %s", exc)

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=True)
        if self._owns_client:
            self.client.close()

    def scheduled(self) -> dict[str, int | None]:
        """APScheduler job id -> its next run (epoch ms): what this process will fire."""
        out: dict[str, int | None] = {}
        for job in self._aps.get_jobs():
            run_at = job.next_run_time
            out[job.id] = None if run_at is None else int(run_at.timestamp() * 1000)
        return out

    # -- following Redis ---------------------------------------------------------------------

    def sync(self, *, force: bool = False) -> None:
        """Schedule new and changed definitions and drop removed or finished ones."""
        with self._lock:
            version = self.client.get(repeat_version(self.settings.namespace))
            if not force and version == self._version and time.monotonic() < self._next_full_sync:
                return
            # Read the counter before the definitions: a change made meanwhile bumps it again.
            self._version, self._next_full_sync = version, time.monotonic() + FULL_SYNC_INTERVAL
            wanted: dict[str, tuple[str, RepeatableJob]] = {}
            for raw in self.client.smembers(repeat_queues_set(self.settings.namespace)):
                name = raw.decode() if isinstance(raw, bytes) else str(raw)
                for definition in RepeatStore(self._queue(name)).all():
                    if definition.next_run is not None:
                        wanted[f"{name}\n{definition.id}"] = (name, definition)
            for job_id in set(self._scheduled) - set(wanted):
                self._unschedule(job_id)
            live = self.scheduled()
            for job_id, (name, definition) in wanted.items():
                known, next_run = self._scheduled.get(job_id), live.get(job_id)
                assert definition.next_run is not None
                if (
                    known is None
                    or known.rev != definition.rev
                    or next_run is None
                    or definition.next_run < next_run - 1000  # Redis says sooner: it is the truth
                ):
                    self._schedule(job_id, name, definition)

    def _schedule(self, job_id: str, queue: str, definition: RepeatableJob) -> None:
        assert definition.next_run is not None
        self._aps.add_job(
            self._fire,
            trigger=definition.trigger(),
            args=(queue, definition.id),
            id=job_id,
            name=f"{queue}: {definition.key}",
            next_run_time=from_ms(max(definition.next_run, self.clock())),
            replace_existing=True,
        )
        self._scheduled[job_id] = _Scheduled(queue, definition.id, definition.rev)
        logger.info("Scheduled repeat %r of queue %r", definition.key, queue)

    def _unschedule(self, job_id: str) -> None:
        known = self._scheduled.pop(job_id)
        with contextlib.suppress(JobLookupError):  # APScheduler dropped it when its trigger ended
            self._aps.remove_job(job_id)
        logger.info("Dropped repeat %s of queue %r", known.definition_id, known.queue)

    def _queue(self, name: str) -> Queue:
        queue = self._queues.get(name)
        if queue is None:
            queue = Queue(name, client=self.client, settings=self.settings, clock=self.clock)
            self._queues[name] = queue
        return queue

    def _fire(self, queue: str, definition_id: str) -> None:
        try:
            for job in advance(self._queue(queue), definition_id):
                logger.info("Repeat fired: queue %r job %s", queue, job.id)
        except PASSING_ERRORS:
            logger.exception("Repeat %s of queue %r did not fire", definition_id, queue)


def run_scheduler(
    settings: Settings | None = None,
    *,
    poll_interval_s: float | None = None,
    stop: threading.Event | None = None,
    poll_interval: float | None = None,
) -> int:
    """Run a scheduler until SIGINT/SIGTERM (or ``stop`` is set); the ``pipeline scheduler`` command.

    ``poll_interval`` is the deprecated old name of ``poll_interval_s``."""
    poll_interval_s = renamed(
        poll_interval_s, poll_interval, new="poll_interval_s", old="poll_interval", owner="run_scheduler"
    )
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [%(name)s] %(levelname)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    scheduler = RepeatScheduler(settings=settings or wiring.get_settings(), poll_interval_s=poll_interval_s)
    scheduler.start()
    # The scheduler processes also evaluate the alert rules (one of them at a time leads).
    alerts = start_alerts(scheduler.settings, stop)
    logger.info("Scheduler is ready: firing repeats of namespace %r", scheduler.settings.namespace)
    try:
        scheduler.run(stop)
    finally:
        stop.set()
        scheduler.shutdown()
        if alerts is not None:
            alerts.join(10)
        logger.info("Scheduler stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_scheduler())
