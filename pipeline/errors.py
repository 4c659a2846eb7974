"""One error hierarchy for the whole project.

Every error the project raises on purpose derives from :class:`PipelineError`.
Dramatiq's own control-flow exceptions (``Retry``, ``SkipMessage``) are reused,
not re-invented.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Root of every error raised by the project."""


class ConfigurationError(PipelineError):
    """A setting or environment variable has an invalid value."""


class RedisUnavailableError(PipelineError):
    """Redis could not be reached at the configured address.

    ``setting`` names where the address came from (``REDIS_URL``, ``REDIS_HOST/REDIS_PORT``
    or the default); the advice to start a local redis-server is given only for a
    loopback address, where starting one is the likely fix.
    """

    def __init__(self, address: str, detail: str, setting: str = "") -> None:
        self.address = address
        self.detail = detail
        self.setting = setting
        source = f" (from {setting})" if setting else ""
        message = f"cannot reach Redis at {address}{source}: {detail}"
        if _is_loopback(address) and ("refused" in detail or "nothing answers" in detail):
            message += (
                f". Start one with 'redis-server --port {address.rsplit(':', 1)[-1]}' (or set REDIS_URL "
                "/ REDIS_HOST and REDIS_PORT to a running server)"
            )
        super().__init__(message + ".")


def _is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")


class ReplicationTimeoutError(PipelineError):
    """Jobs were added on the master, but fewer replicas than asked for confirmed them in time."""

    def __init__(
        self, queue: str, job_ids: list[str], acknowledged: int, wanted: int, timeout_ms: int
    ) -> None:
        self.queue = queue
        self.job_ids = job_ids
        self.acknowledged = acknowledged
        self.wanted = wanted
        self.timeout_ms = timeout_ms
        super().__init__(
            f"queue {queue!r}: {len(job_ids)} job(s) added on the master, but only {acknowledged} of "
            f"{wanted} replica(s) confirmed them within {timeout_ms} ms; they would be lost if the "
            f"master failed now (first id {job_ids[0]!r})"
        )


class InvalidJobError(PipelineError):
    """A job's name, data or options were rejected by ``add()``; nothing was enqueued."""

    def __init__(self, message: str, *, queue: str | None = None, field: str | None = None) -> None:
        self.queue = queue
        self.field = field
        super().__init__(message)


class JobNotFoundError(PipelineError):
    """No job with this id exists (any more) in the queue."""

    def __init__(self, job_id: str, queue: str) -> None:
        self.job_id = job_id
        self.queue = queue
        super().__init__(f"job {job_id!r} not found in queue {queue!r}")


class JobStateError(PipelineError):
    """The job is not in a state that allows the requested operation."""

    def __init__(self, job_id: str, queue: str, state: str, operation: str) -> None:
        self.job_id = job_id
        self.queue = queue
        self.state = state
        self.operation = operation
        super().__init__(f"cannot {operation} job {job_id!r} of queue {queue!r}: it is {state}")


class UnknownQueueError(PipelineError):
    """No job was ever added to, and no worker ever served, a queue of this name."""

    def __init__(self, queue: str) -> None:
        self.queue = queue
        super().__init__(f"queue {queue!r} not found")


class QueueBusyError(PipelineError):
    """A queue-wide operation was refused because jobs of the queue are running."""

    def __init__(self, queue: str, operation: str, active: int) -> None:
        self.queue = queue
        self.operation = operation
        self.active = active
        super().__init__(
            f"cannot {operation} queue {queue!r}: {active} job(s) are active (force it to delete them too)"
        )


class JobFailedError(PipelineError):
    """``wait_until_finished`` saw the job fail; carries its failed reason."""

    def __init__(self, job_id: str, queue: str, reason: str) -> None:
        self.job_id = job_id
        self.queue = queue
        self.reason = reason
        super().__init__(f"job {job_id!r} of queue {queue!r} failed: {reason}")


class JobTimeoutError(PipelineError):
    """Waiting for a job, or a job attempt itself, ran past its time limit."""

    def __init__(self, job_id: str, queue: str, timeout_ms: int) -> None:
        self.job_id = job_id
        self.queue = queue
        self.timeout_ms = timeout_ms
        super().__init__(f"job {job_id!r} of queue {queue!r}: timeout of {timeout_ms} ms exceeded")


class UnknownJobNameError(PipelineError):
    """A worker took a job whose name has no handler and the queue has no catch-all."""

    def __init__(self, job_name: str, queue: str) -> None:
        self.job_name = job_name
        self.queue = queue
        super().__init__(f"no handler for job name {job_name!r} on queue {queue!r} (and no catch-all)")


class UnreadableJobError(PipelineError):
    """A stored job record cannot be decoded; ``reason`` names what is wrong with it."""

    def __init__(self, reason: str, *, job_id: str | None = None, queue: str | None = None) -> None:
        self.reason = reason
        self.job_id = job_id
        self.queue = queue
        super().__init__(reason)


class UnrecoverableError(PipelineError):
    """Raised by a handler to fail its job at once, without using the remaining attempts."""
