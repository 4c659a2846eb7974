"""Every Redis key name the project uses, in one module: Python and Lua read them here.

A queue's keys all carry the ``{queue}`` hash tag, so they share one cluster
slot and a Lua script may touch any of them.  Job records live at
``<ns>:{<queue>}:j:<id>``; scripts that need a job key from an id get the
``<ns>:{<queue>}:j:`` prefix as an argument (same slot, so cluster-safe), and
hot-path scripts derive a queue's ``logs:``, ``metrics:`` and ``dedup:`` keys
from the job key the same way (see ``scripts/includes/queue_base.lua``).  The
parts of names that scripts put together themselves are :data:`LUA_PARTS`,
rendered into Lua by ``--- @include "keys"`` (:func:`lua_definitions`), so no
script spells a key name of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Prefix of a job's record (append the job id): ``<base>j:<id>``.
JOB = "j:"
#: Prefix of a job's log list (append the job id).
LOGS = "logs:"
#: Prefix of deduplication keys (append the deduplication id).
DEDUP = "dedup:"
#: Prefix of the queue's metric keys (``METRIC_*`` follow it).
METRICS = "metrics:"
#: After the metrics prefix: the set of job names with metrics.
METRIC_NAMES = "names"
#: After the metrics prefix: the hash of all-time counters Prometheus reads.
METRIC_TOTALS = "totals"
#: After the metrics prefix: a job name's list of recent durations (append the name).
METRIC_DURATIONS = "durations:"
#: Between a metric ring's kind and job name: ``<metrics prefix><kind>:<name>``.
METRIC_RING = ":"
#: After the prioritized set's name: when each prioritized job arrived at its level.
PRIORITY_AGE = ":age"
#: Between the idle set's name and a member: that consumer's inbox list.
INBOX = ":"

#: The parts of key names that Lua scripts join themselves (onto a key or prefix they were
#: given, so in the same slot), by their Lua name in the ``keys`` include.
LUA_PARTS = {
    "KEY_JOB": JOB,
    "KEY_LOGS": LOGS,
    "KEY_DEDUP": DEDUP,
    "KEY_METRICS": METRICS,
    "KEY_METRIC_NAMES": METRIC_NAMES,
    "KEY_METRIC_TOTALS": METRIC_TOTALS,
    "KEY_METRIC_DURATIONS": METRIC_DURATIONS,
    "KEY_METRIC_RING": METRIC_RING,
    "KEY_PRIORITY_AGE": PRIORITY_AGE,
    "KEY_INBOX": INBOX,
}


def lua_definitions() -> str:
    """:data:`LUA_PARTS` as Lua locals, for the ``keys`` include."""
    lines = ["-- Parts of key names, rendered from pipeline/keys.py (the only spelling of every key)."]
    lines += [f"local {name} = {_lua_string(part)}" for name, part in LUA_PARTS.items()]
    return "\n".join(lines) + "\n"


def _lua_string(text: str) -> str:
    assert text.isascii() and '"' not in text and "\\" not in text, text
    return f'"{text}"'


@dataclass(frozen=True, slots=True)
class QueueKeys:
    """Key names of one queue.

    Attributes:
        wait: list of waiting job ids without priority (LPUSH in, RPOP out).
        prioritized: sorted set of waiting prioritized job ids (lowest score first).
        prioritized_age: sorted set of when each prioritized job arrived at its level, for
            priority aging (the scripts join it from ``prioritized``).
        delayed: sorted set of delayed job ids scored by due time (epoch ms).
        active: sorted set of running job ids scored by lock expiry (epoch ms).
            Due times, lock expiry and every other time that schedules work count on
            Redis's clock (``TIME``), so hosts whose clocks disagree still agree.
        completed: sorted set of completed job ids scored by finish time.
        failed: sorted set of failed job ids scored by finish time.
        meta: hash of queue settings (paused, limiter, ...).
        marker: list a blocked worker waits on; pushed when work may be ready.
        idle: sorted set of consumers blocked for work that take new jobs directly,
            scored by when their registration lapses; each one's inbox list is ``inbox``.
        handed: sorted set of consumers just handed a job and not yet back at a fetch,
            scored like ``idle``; a lapsed one is a worker that went away.
        events: stream of lifecycle events.
        seq: counter giving prioritized jobs their FIFO order within a level.
        limited: sorted set of waiting jobs parked by a per-group rate limit, scored by
            when their group's window frees (they still count as waiting).
        limiter: the queue-wide rate limiter's sliding window (start times).
        limiter_group_prefix: prefix of per-group limiter windows (append the group value).
        dedup_prefix: prefix of deduplication keys (append the deduplication id).
        stall_guard: short-lived key: one process per interval sweeps expired locks.
        holders: sorted set of live worker processes serving the queue, as
            ``<stalled interval ms>|<lock ms>|<process id>`` scored by their last lock renewal
            (Redis's clock): sweeps take their pace and outage grace from it.
        stall_grace: hash: when a worker last touched the queue and the last silence (an
            outage) after which lapsed locks get a grace (see ``includes/grace_floor.lua``).
        workers: hash of live worker processes serving the queue (id -> JSON).
        metrics_prefix: prefix of the per-job-name metric rings (``metric_ring``) and
            duration lists (``metric_durations``).
        metric_names: set of the job names that have metrics.
        metric_totals: hash of the all-time counters and duration histogram Prometheus reads.
        job_prefix: prefix of job record keys (append the job id).
        logs_prefix: prefix of job log lists (append the job id).
        base: the prefix every key of the queue starts with (to find them all).
    """

    wait: str
    prioritized: str
    prioritized_age: str
    delayed: str
    active: str
    completed: str
    failed: str
    meta: str
    marker: str
    idle: str
    handed: str
    events: str
    seq: str
    limited: str
    limiter: str
    limiter_group_prefix: str
    dedup_prefix: str
    stall_guard: str
    holders: str
    stall_grace: str
    workers: str
    metrics_prefix: str
    metric_names: str
    metric_totals: str
    job_prefix: str
    logs_prefix: str
    base: str

    @classmethod
    def for_queue(cls, namespace: str, queue: str) -> QueueKeys:
        base = f"{namespace}:{{{queue}}}:"
        return cls(
            wait=base + "wait",
            prioritized=base + "prio",
            prioritized_age=base + "prio" + PRIORITY_AGE,
            delayed=base + "delayed",
            active=base + "active",
            completed=base + "completed",
            failed=base + "failed",
            meta=base + "meta",
            marker=base + "marker",
            idle=base + "idle",
            handed=base + "handed",
            events=base + "events",
            seq=base + "seq",
            limited=base + "limited",
            limiter=base + "limiter",
            limiter_group_prefix=base + "limiter:",
            dedup_prefix=base + DEDUP,
            stall_guard=base + "stall-guard",
            holders=base + "holders",
            stall_grace=base + "stall-grace",
            workers=base + "workers",
            metrics_prefix=base + METRICS,
            metric_names=base + METRICS + METRIC_NAMES,
            metric_totals=base + METRICS + METRIC_TOTALS,
            job_prefix=base + JOB,
            logs_prefix=base + LOGS,
            base=base,
        )

    def job(self, job_id: str) -> str:
        return self.job_prefix + job_id

    def logs(self, job_id: str) -> str:
        return self.logs_prefix + job_id

    def inbox(self, member: str) -> str:
        """The list an idle consumer registered as ``member`` receives handed-off jobs on."""
        return self.idle + INBOX + member

    def metric_ring(self, kind: str, name: str) -> str:
        """Hash of job ``name``'s ``kind`` (completed or failed) count per minute (a week's ring)."""
        return self.metrics_prefix + kind + METRIC_RING + name

    def metric_durations(self, name: str) -> str:
        """List of the newest durations (ms) of job ``name``."""
        return self.metrics_prefix + METRIC_DURATIONS + name


def queues_set(namespace: str) -> str:
    """Set of every queue name ever declared (for dashboards and discovery)."""
    return f"{namespace}:queues"


@dataclass(frozen=True, slots=True)
class RepeatKeys:
    """Key names of one queue's repeatable jobs, in the queue's ``{queue}`` slot.

    Attributes:
        index: set of the queue's repeat definition ids.
        prefix: prefix of the definition hashes (append the id).
    """

    index: str
    prefix: str

    @classmethod
    def for_queue(cls, namespace: str, queue: str) -> RepeatKeys:
        base = f"{namespace}:{{{queue}}}:repeat"
        return cls(index=base, prefix=base + ":")

    def definition(self, repeat_id: str) -> str:
        return self.prefix + repeat_id


def repeat_queues_set(namespace: str) -> str:
    """Set of queue names that have repeat definitions (the scheduler reads these)."""
    return f"{namespace}:repeat:queues"


def dramatiq_namespace(namespace: str) -> str:
    """Prefix of the keys Dramatiq's own Redis broker names itself, apart from ours."""
    return f"{namespace}:dramatiq"


def repeat_version(namespace: str) -> str:
    """Counter bumped whenever a repeat definition is added, changed or removed."""
    return f"{namespace}:repeat:version"


@dataclass(frozen=True, slots=True)
class AlertKeys:
    """Key names of the alert evaluator (namespace-wide, outside any queue's slot).

    Attributes:
        leader: the lease naming the one process that evaluates the rules.
        state: hash of each (rule, queue)'s last evaluation (JSON), firing or ok.
        samples: hash of each stalled rule's recent (time, stalled total) samples (JSON).
    """

    leader: str
    state: str
    samples: str

    @classmethod
    def for_namespace(cls, namespace: str) -> AlertKeys:
        base = f"{namespace}:alerts:"
        return cls(leader=base + "leader", state=base + "state", samples=base + "samples")


@dataclass(frozen=True, slots=True)
class ApiKeys:
    """Key names of the management API (outside every queue's slot: no script touches them).

    Attributes:
        audit: capped stream of mutating API actions (who, role, action, queue, job, outcome).
        login_failures_prefix: prefix of the counters of recent failed logins, per address
            (``login_failures_from``) and per user name (``login_failures_of``); they expire
            with the lockout window.
        revoked_prefix: ids of console sessions ended by logout (append the session id);
            each expires when its session would have.
    """

    audit: str
    login_failures_prefix: str
    revoked_prefix: str

    @classmethod
    def for_namespace(cls, namespace: str) -> ApiKeys:
        base = f"{namespace}:api:"
        return cls(
            audit=base + "audit",
            login_failures_prefix=base + "login-failures:",
            revoked_prefix=base + "revoked:",
        )

    def login_failures_from(self, address: str) -> str:
        """Counter of recent failed logins from ``address``."""
        return self.login_failures_prefix + "ip:" + address

    def login_failures_of(self, name: str) -> str:
        """Counter of recent failed logins as user ``name``."""
        return self.login_failures_prefix + "user:" + name
