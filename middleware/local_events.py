"""LocalEvents: runs the ``@on(queue, event)`` listeners for jobs this process handles."""

from __future__ import annotations

from typing import Any, cast

import dramatiq
from dramatiq.middleware import Middleware

from pipeline.errors import PipelineError
from pipeline.job_message import JobMessage
from pipeline.listeners import dispatch, has_listeners
from pipeline.ports import JobBroker


class LocalEvents(Middleware):
    """Fires ``active`` before a handler runs, ``completed``/``failed`` once the outcome is stored."""

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if self._wanted(broker, message, "active"):
            dispatch(message.queue_name, "active", self._job(broker, message))

    def after_ack(self, broker: dramatiq.Broker, message: Any) -> None:
        self._finished(broker, message)

    def after_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        self._finished(broker, message)

    def _finished(self, broker: dramatiq.Broker, message: Any) -> None:
        if not isinstance(message, JobMessage):
            return
        if message.outcome == "completed" and self._wanted(broker, message, "completed"):
            dispatch(message.queue_name, "completed", self._job(broker, message), message.result)
        elif message.outcome == "failed" and self._wanted(broker, message, "failed"):
            error = message._exception or PipelineError(message.recorded_reason or "failed")
            dispatch(message.queue_name, "failed", self._job(broker, message), error)

    @staticmethod
    def _wanted(broker: dramatiq.Broker, message: Any, event: str) -> bool:
        # Only a JobBroker's consumer delivers a JobMessage.
        return isinstance(message, JobMessage) and has_listeners(message.queue_name, event)

    @staticmethod
    def _job(broker: Any, message: JobMessage) -> Any:
        return message.to_job(cast(JobBroker, broker).queue(message.queue_name))
