"""Retries: Bull's attempts/backoff on top of Dramatiq's retry options."""

from __future__ import annotations

import time
import traceback
from typing import Any

import dramatiq
from dramatiq.common import compute_backoff
from dramatiq.errors import Retry
from dramatiq.logging import get_logger
from dramatiq.middleware import Middleware

from pipeline.errors import UnrecoverableError
from pipeline.job_message import JobMessage
from pipeline.options import backoff_delay

#: Dramatiq's defaults, kept for actors that use Dramatiq's options.
DEFAULT_MAX_RETRIES = 20
DEFAULT_MIN_BACKOFF = 15_000
DEFAULT_MAX_BACKOFF = 86_400_000 * 7


class Retries(Middleware):
    """Decides, after a failed attempt, whether the job gets another and when.

    Option lookup: message options, then actor options, then these defaults.
    ``attempts`` (total tries) and ``backoff`` are Bull's; an actor that sets
    Dramatiq's ``max_retries``/``min_backoff``/``max_backoff``/``retry_when``
    keeps Dramatiq's behaviour.  ``throws`` and :class:`UnrecoverableError` fail
    at once.  The retry itself is written by the consumer in one transition
    (active -> delayed), so the job is never enqueued twice.

    Like Dramatiq's Retries it writes ``message.options["retries"]`` (failed
    attempts so far), ``["traceback"]`` and ``["requeue_timestamp"]`` after a
    failed attempt, so ``on_failure``/``on_retry_exhausted`` targets and other
    middleware read them as usual.  A retried attempt starts with ``retries``
    taken from the job record's attempt count (the stored message is not
    rewritten between attempts, so the previous ``traceback`` is not carried;
    it is on the record, ``job.stacktrace``).
    """

    def __init__(self, *, max_retries: int = DEFAULT_MAX_RETRIES) -> None:
        self.logger = get_logger(__name__, type(self))
        self.max_retries = max_retries

    @property
    def actor_options(self) -> set[str]:
        return {
            "attempts",
            "backoff",
            "max_retries",
            "min_backoff",
            "max_backoff",
            "retry_when",
            "throws",
            "on_retry_exhausted",
        }

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if isinstance(message, JobMessage) and message.attempts_made:
            message.options["retries"] = message.attempts_made

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None or not isinstance(message, JobMessage):
            return
        actor = broker.get_actor(message.actor_name)

        def option(name: str, default: Any = None) -> Any:
            return message.options.get(name, actor.options.get(name, default))

        throws = option("throws")
        if isinstance(exception, UnrecoverableError) or (throws and isinstance(exception, throws)):
            self.logger.info("Job %r failed with %s; not retried.", message.job_id, type(exception).__name__)
            message.fail()
            return

        retries_so_far = message.attempts_made
        message.options["retries"] = retries_so_far + 1
        message.options["traceback"] = traceback.format_exc(limit=30)
        message.options["requeue_timestamp"] = int(time.time() * 1000)
        retry_when = option("retry_when")
        if retry_when is not None:
            again = bool(retry_when(retries_so_far, exception))
        else:
            attempts = option("attempts")
            if attempts is None:
                max_retries = option("max_retries", self.max_retries)
                attempts = None if max_retries is None else int(max_retries) + 1
            again = attempts is None or retries_so_far + 1 < int(attempts)
        if not again:
            self.logger.warning("Job %r used its last attempt.", message.job_id)
            message.fail(exhausted=True)
            target = option("on_retry_exhausted")
            if target:
                broker.get_actor(target).send(
                    message.asdict(), {"retries": retries_so_far, "max_retries": option("max_retries")}
                )
            return

        if isinstance(exception, Retry) and exception.delay is not None:
            delay = int(exception.delay)
        elif option("backoff") is not None or option("attempts") is not None:
            delay = backoff_delay(option("backoff"), retries_so_far + 1)
        else:
            min_backoff = option("min_backoff", DEFAULT_MIN_BACKOFF)
            max_backoff = min(option("max_backoff", DEFAULT_MAX_BACKOFF), DEFAULT_MAX_BACKOFF)
            _, delay = compute_backoff(retries_so_far, factor=min_backoff, max_backoff=max_backoff)
        message.retry_in(int(delay))
        self.logger.info("Retrying job %r in %d ms.", message.job_id, delay)
