"""LocalEvents: runs the ``@on(queue, event)`` listeners for jobs this process handles."""

from __future__ import annotations

from typing import Any, cast

import dramatiq
from dramatiq.middleware import Middleware

from pipeline.errors import PipelineError
from pipeline.job_message import JobMessage, Outcome
from pipeline.listeners import dispatch, has_listeners
from pipeline.ports import JobBroker
from pipeline.states import LocalEvent


class LocalEvents(Middleware):
    """Fires ``active`` before a handler runs, ``completed``/``failed`` once the outcome is stored."""

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if self._wanted(broker, message, LocalEvent.ACTIVE):
            dispatch(message.queue_name, LocalEvent.ACTIVE, self._job(broker, message))

    def after_ack(self, broker: dramatiq.Broker, message: Any) -> None:
        self._finished(broker, message)

    def after_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        self._finished(broker, message)

    def _finished(self, broker: dramatiq.Broker, message: Any) -> None:
        if not isinstance(message, JobMessage):
            return
        if message.outcome is Outcome.COMPLETED and self._wanted(broker, message, LocalEvent.COMPLETED):
            dispatch(message.queue_name, LocalEvent.COMPLETED, self._job(broker, message), message.result)
        elif message.outcome is Outcome.FAILED and self._wanted(broker, message, LocalEvent.FAILED):
            error = message._exception or PipelineError(message.recorded_reason or "failed")
            dispatch(message.queue_name, LocalEvent.FAILED, self._job(broker, message), error)

    @staticmethod
    def _wanted(broker: dramatiq.Broker, message: Any, event: str) -> bool:
        # Only a JobBroker's consumer delivers a JobMessage.
        return isinstance(message, JobMessage) and has_listeners(message.queue_name, event)

    @staticmethod
    def _job(broker: Any, message: JobMessage) -> Any:
        return message.to_job(cast(JobBroker, broker).queue(message.queue_name))
