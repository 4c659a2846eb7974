"""The vocabulary of a job's life: its states and the events a queue emits, spelled once.

Both are ``StrEnum``, so a member compares equal to the plain string the Lua scripts
store and emit (``JobState.WAITING == "waiting"``).
"""

from __future__ import annotations

from enum import StrEnum


class JobState(StrEnum):
    """Where a job is in its life (Bull's vocabulary)."""

    WAITING = "waiting"
    DELAYED = "delayed"
    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"


class FinalState(StrEnum):
    """The states a job ends in: what ``clean`` deletes and metrics count."""

    COMPLETED = JobState.COMPLETED.value
    FAILED = JobState.FAILED.value


#: Every job state, in listing order, as plain strings (for option choices and messages).
STATES: tuple[str, ...] = tuple(state.value for state in JobState)
#: The states a job ends in, as plain strings.
FINAL_STATES: tuple[str, ...] = tuple(state.value for state in FinalState)
#: The key ``get_job_counts`` reports a paused queue's waiting jobs under (Bull's ``paused`` count).
PAUSED = "paused"
#: The keys of ``get_job_counts``, in display order.
COUNT_KEYS: tuple[str, ...] = (
    JobState.WAITING.value,
    PAUSED,
    JobState.DELAYED.value,
    JobState.ACTIVE.value,
    JobState.COMPLETED.value,
    JobState.FAILED.value,
)


class EventName(StrEnum):
    """The ``event`` field of a queue's event stream, written by the Lua scripts."""

    WAITING = "waiting"
    DELAYED = "delayed"
    ACTIVE = "active"
    PROGRESS = "progress"
    COMPLETED = "completed"
    FAILED = "failed"
    STALLED = "stalled"
    REMOVED = "removed"
    CLEANED = "cleaned"
    DRAINED = "drained"
    PAUSED = "paused"
    RESUMED = "resumed"
    DEDUPLICATED = "deduplicated"
    DEBOUNCED = "debounced"


class LocalEvent(StrEnum):
    """The events a local listener (:func:`pipeline.listeners.on`) can hear in its own process."""

    WAITING = "waiting"
    ACTIVE = "active"
    PROGRESS = "progress"
    COMPLETED = "completed"
    FAILED = "failed"
    STALLED = "stalled"
