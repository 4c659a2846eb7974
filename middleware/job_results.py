"""JobResults: hands each handler's return value to the consumer, for the job record."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from pipeline.job_message import JobMessage


class JobResults(Middleware):
    """Keeps every return value on its job record (Bull's return value).

    This is the job model's own record, not Dramatiq's ``Results``: the value is
    written by the script that completes the job, and ``Job.result`` /
    ``wait_until_finished`` read it.  Dramatiq's ``message.get_result()`` still
    needs a ``Results`` middleware, as in Dramatiq (``JobResultBackend`` reads
    these records; any other backend stores its own copy).
    """

    def after_process_message(
        self, broker: dramatiq.Broker, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        if exception is None and isinstance(message, JobMessage):
            message.complete(result)
