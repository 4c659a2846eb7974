"""The composition root: the process's broker and its middleware stack, put together here.

Nothing else names the middleware: the broker is a mechanism that runs whatever
stack it is given, and each middleware depends only on the small protocols of
``pipeline.ports``.  A ``PipelineBroker`` built without ``middleware=`` gets
:func:`default_middleware`, installed here (``import pipeline`` loads this module).
"""

from __future__ import annotations

import threading

import dramatiq
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Middleware,
    Pipelines,
    ShutdownNotifications,
    TimeLimit,
)

from middleware.cancellation import Cancellation
from middleware.current_job import CurrentJob
from middleware.job_results import JobResults
from middleware.local_events import LocalEvents
from middleware.metrics_exporter import MetricsExporter
from middleware.rate_limit import RateLimit
from middleware.retries import Retries
from middleware.stall_detection import StallDetection
from middleware.worker_registry import WorkerRegistry
from pipeline.broker import PipelineBroker, install_default_middleware


def default_middleware() -> list[Middleware]:
    """The middleware stack, in order.

    Dramatiq's defaults come first, in Dramatiq's order, so its semantics hold
    (age limits, time limits, shutdown notices, callbacks, pipelines).  Our
    Retries replaces Dramatiq's: same options, plus Bull's attempts/backoff, and
    it reschedules through the job store instead of enqueueing a copy.
    JobResults hands return values to the consumer, which stores them on the job
    record with the completion (Bull's return value); Dramatiq's ``Results`` is
    not in the stack, as in Dramatiq: add ``Results(backend=...)`` for
    ``message.get_result()`` (``pipeline.results.JobResultBackend`` reads the
    job records, any Dramatiq backend works too).  CurrentJob follows, so the
    job is bound before LocalEvents fires ``active`` listeners with it.
    RateLimit only publishes actor-declared
    limiters at boot (the fetch script enforces them).  Cancellation, StallDetection and
    WorkerRegistry each run a small thread per worker process (cancel requests,
    lock renewal and stall sweeps, heartbeats); WorkerRegistry also checks at
    boot that Redis answers, so a bad address fails with one readable error.
    MetricsExporter only adds a fork process serving Prometheus metrics when asked.
    """
    return [
        AgeLimit(),
        TimeLimit(interval=100),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(),
        JobResults(),
        CurrentJob(),
        LocalEvents(),
        RateLimit(),
        Cancellation(),
        StallDetection(),
        WorkerRegistry(),
        MetricsExporter(),
    ]


install_default_middleware(default_middleware)

_broker: PipelineBroker | None = None
_broker_lock = threading.Lock()


def get_broker() -> PipelineBroker:
    """The process's broker, built on first use and installed as Dramatiq's global broker."""
    global _broker
    with _broker_lock:
        if _broker is None:
            _broker = PipelineBroker()
            dramatiq.set_broker(_broker)
        return _broker


def set_broker(broker: PipelineBroker) -> None:
    """Make ``broker`` the process's broker, and Dramatiq's global one."""
    global _broker
    with _broker_lock:
        _broker = broker
        dramatiq.set_broker(broker)
