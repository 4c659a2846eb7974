"""CurrentJob: makes ``current_job()`` return the running job inside handlers."""

from __future__ import annotations

from typing import Any, cast

import dramatiq
from dramatiq.middleware import Middleware

from pipeline.context import set_current_job
from pipeline.job_message import JobMessage
from pipeline.ports import JobBroker


class CurrentJob(Middleware):
    """Binds the job of each message to the worker thread while its handler runs."""

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if isinstance(message, JobMessage):  # only a JobBroker's consumer delivers one
            queue = cast(JobBroker, broker).queue(message.queue_name)
            set_current_job(lambda: message.to_job(queue))

    def after_process_message(
        self, broker: dramatiq.Broker, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        set_current_job(None)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        set_current_job(None)
