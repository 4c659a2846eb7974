"""The KEYS each script takes, written once per script, in the order its header lists them.

Each entry names :class:`~pipeline.keys.QueueKeys` attributes, plus three that a call
supplies: ``job`` (the job record key of the call's job id), ``logs`` (that job's log
list) and ``state`` (the sorted set of the state the call names).  A script whose header
lists more keys after these (``add``: one per job) gets them appended by its caller.
``tests/test_script_keys.py`` checks every entry against the script's header.
"""

from __future__ import annotations

from typing import Final

from pipeline.keys import QueueKeys

#: Names that stand for a key of the call's job, and the QueueKeys prefix each appends the id to.
PER_JOB: Final = {"job": "job_prefix", "logs": "logs_prefix"}
#: The name that stands for the sorted set of the state a call names (``clean``).
STATE: Final = "state"

SCRIPT_KEYS: Final[dict[str, tuple[str, ...]]] = {
    # -- producing
    "add": (
        "wait", "prioritized", "delayed", "marker", "seq", "events", "idle", "meta", "active", "handed",
    ),
    # -- worker side
    "fetch": (
        "wait", "prioritized", "delayed", "active", "meta", "seq", "events", "limited", "limiter",
        "idle", "handed", "failed",
    ),
    "complete": (
        "job", "active", "completed", "events", "wait", "prioritized", "delayed", "meta", "seq",
        "idle", "failed",
    ),
    "fail": ("job", "active", "failed", "logs", "events"),
    "retry": ("job", "active", "wait", "prioritized", "delayed", "marker", "seq", "events"),
    "requeue": ("active", "wait", "prioritized", "marker", "seq", "events", "idle", "handed"),
    "update_progress": ("job", "events"),
    "extend_locks": ("active", "wait", "prioritized", "limited", "holders", "stall_grace", "events"),
    "stalled": (
        "active", "wait", "prioritized", "seq", "marker", "events", "failed", "stall_guard", "idle",
        "handed", "holders", "stall_grace",
    ),
    # -- admin
    "remove": ("job", "logs", "wait", "prioritized", "delayed", "completed", "failed", "events", "limited"),
    "retry_failed": ("job", "failed", "wait", "prioritized", "marker", "seq", "events"),
    "cancel": ("job", "wait", "prioritized", "delayed", "failed", "events", "limited"),
    "reschedule": ("job", "delayed", "wait", "prioritized", "seq", "marker", "events"),
    "clean": (STATE, "events"),
    "drain": ("wait", "prioritized", "delayed", "events", "limited"),
    "promote_all": ("delayed", "wait", "prioritized", "seq", "marker", "events"),
    "retry_all": ("failed", "wait", "prioritized", "marker", "seq", "events"),
    "obliterate": ("wait", "prioritized", "delayed", "limited", "completed", "failed", "active"),
    "pause": ("meta", "marker", "events"),
}  # fmt: skip


class ScriptKeys:
    """The KEYS of every script for one queue, resolved once: a call only fills in its job."""

    __slots__ = ("_fills", "_keys")

    def __init__(self, keys: QueueKeys) -> None:
        self._keys = keys
        #: Per script: its KEYS (a call's own keys as ""), and (index, prefix) of each key of the job.
        self._fills: dict[str, tuple[list[str], tuple[tuple[int, str], ...]]] = {}
        for script, names in SCRIPT_KEYS.items():
            resolved = [
                "" if name in PER_JOB or name == STATE else str(getattr(keys, name)) for name in names
            ]
            fills = tuple(
                (i, str(getattr(keys, PER_JOB[name]))) for i, name in enumerate(names) if name in PER_JOB
            )
            self._fills[script] = (resolved, fills)

    def fixed(self, script: str) -> list[str]:
        """KEYS of a script that names no job of the call; shared, so never change the list."""
        return self._fills[script][0]

    def for_job(self, script: str, job_id: str) -> list[str]:
        """KEYS of a script about one job (a new list)."""
        template, fills = self._fills[script]
        keys = template.copy()
        for index, prefix in fills:
            keys[index] = prefix + job_id
        return keys

    def for_state(self, script: str, state: str) -> list[str]:
        """KEYS of a script about the sorted set of ``state`` (completed or failed)."""
        names = SCRIPT_KEYS[script]
        target = str(getattr(self._keys, state))
        return [target if name == STATE else key for name, key in zip(names, self.fixed(script), strict=True)]
