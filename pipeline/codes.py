"""The return codes of the Lua scripts: one table, one meaning per code, one mapping to errors.

The scripts read the same table: ``--- @include "codes"`` defines a Lua local per
member (``local NOT_HELD = -1``), rendered from :class:`Code` when a script is loaded,
so a code is spelled once for both languages.  Each script's header lists the codes
it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum, unique

from pipeline.errors import JobNotFoundError, JobStateError, QueueBusyError


@unique
class Code(IntEnum):
    """What a state-changing script did."""

    #: It did what was asked (created, moved, stored, claimed, held).
    DONE = 1
    #: Nothing needed doing and nothing changed (add: the job id existed; pause: it already
    #: was so; lease: another holder has it; repeat_claim: another scheduler moved on).
    UNCHANGED = 0
    #: add: the deduplication id is taken; nothing changed (the owner's id is returned).
    DEDUPLICATED = 2
    #: add: the deduplication id is taken in debounce mode; the owner's data was replaced.
    DEBOUNCED = 3
    #: cancel: the job is running; its worker was asked to stop it.
    CANCEL_REQUESTED = 4
    #: The job is no longer this worker's (removed, reclaimed after a stall, or finished).
    NOT_HELD = -1
    #: The job (or a job of the queue) is active: a worker holds it.
    ACTIVE = -2
    #: The job is not in a state the operation accepts.
    WRONG_STATE = -3
    #: complete/retry: a cancel was requested meanwhile; nothing changed, the caller fails it.
    CANCEL_PENDING = -4
    #: repeat_claim: the repeat has no occurrence left (limit or end date reached).
    REPEAT_FINISHED = -5
    #: No job with this id exists.
    NO_SUCH_JOB = -6


def lua_definitions() -> str:
    """The table as Lua locals, for the ``codes`` include."""
    lines = ["-- Script return codes, rendered from pipeline/codes.py (one meaning per code)."]
    lines += [f"local {code.name} = {code.value}" for code in Code]
    return "\n".join(lines) + "\n"


def check_job_code(
    code: int, *, job_id: str, queue: str, operation: str, state_of: Callable[[], str]
) -> Code:
    """The code of a management script run on one job, or the error it means.

    ``state_of`` reads the job's state now, for the message of a wrong-state refusal.
    """
    outcome = Code(code)
    if outcome is Code.NO_SUCH_JOB:
        raise JobNotFoundError(job_id, queue)
    if outcome is Code.ACTIVE:
        raise JobStateError(job_id, queue, "active", operation)
    if outcome is Code.WRONG_STATE:
        raise JobStateError(job_id, queue, state_of(), operation)
    return outcome


def check_queue_code(code: int, *, queue: str, operation: str, active: Callable[[], int]) -> int:
    """A queue-wide script's count, or the error its refusal means (``ACTIVE``: jobs run)."""
    if code == Code.ACTIVE:
        raise QueueBusyError(queue, operation, active())
    return code
