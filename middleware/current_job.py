"""CurrentJob: makes ``current_job()`` return the running job inside handlers."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from pipeline.broker import PipelineBroker
from pipeline.consumer import JobMessage
from pipeline.context import set_current_job
from pipeline.job import Job, JobState


class CurrentJob(Middleware):
    """Binds the job of each message to the worker thread while its handler runs."""

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if not isinstance(message, JobMessage) or not isinstance(broker, PipelineBroker):
            return
        queue = broker.queue(message.queue_name)
        opts = dict(message.options)
        if "time_limit" in opts:
            opts["timeout"] = opts.pop("time_limit")
        set_current_job(
            Job(
                id=message.job_id,
                name=message.job_name,
                queue_name=message.queue_name,
                data=message.kwargs,
                opts=opts,
                state=JobState.ACTIVE,
                attempts_made=message.attempts_made,
                timestamp=message.message_timestamp,
                _queue=queue,
                _token=message.token,
            )
        )

    def after_process_message(
        self, broker: dramatiq.Broker, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        set_current_job(None)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        set_current_job(None)
