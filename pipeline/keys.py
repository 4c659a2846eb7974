"""Every Redis key name the project uses, in one module.

A queue's keys all carry the ``{queue}`` hash tag, so they share one cluster
slot and a Lua script may touch any of them.  Job records live at
``<ns>:{<queue>}:j:<id>``; scripts that need a job key from an id get the
``<ns>:{<queue>}:j:`` prefix as an argument (same slot, so cluster-safe), and
hot-path scripts derive a queue's ``logs:``, ``metrics:`` and ``dedup:`` keys
from the job key the same way (see ``scripts/includes/queue_base.lua``): the
names below are the only spelling of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class QueueKeys:
    """Key names of one queue.

    Attributes:
        wait: list of waiting job ids without priority (LPUSH in, RPOP out).
        prioritized: sorted set of waiting prioritized job ids (lowest score first);
            ``<prioritized>:age`` (built by the scripts, same slot) holds when each
            arrived at its level, for priority aging.
        delayed: sorted set of delayed job ids scored by due time (epoch ms).
        active: sorted set of running job ids scored by lock expiry (epoch ms).
            Due times, lock expiry and every other time that schedules work count on
            Redis's clock (``TIME``), so hosts whose clocks disagree still agree.
        completed: sorted set of completed job ids scored by finish time.
        failed: sorted set of failed job ids scored by finish time.
        meta: hash of queue settings (paused, limiter, ...).
        marker: list a blocked worker waits on; pushed when work may be ready.
        idle: sorted set of consumers blocked for work that take new jobs directly,
            scored by when their registration lapses; ``<idle>:<member>`` (built by
            the scripts, same slot) is each one's inbox list (see ``inbox``).
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
        metrics_prefix: prefix of the per-job-name metric rings and duration lists, and of
            ``<prefix>totals``, the all-time counters and duration histogram Prometheus reads.
        job_prefix: prefix of job record keys (append the job id).
        logs_prefix: prefix of job log lists (append the job id).
        base: the prefix every key of the queue starts with (to find them all).
    """

    wait: str
    prioritized: str
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
    job_prefix: str
    logs_prefix: str
    base: str

    @classmethod
    def for_queue(cls, namespace: str, queue: str) -> QueueKeys:
        base = f"{namespace}:{{{queue}}}:"
        return cls(
            wait=base + "wait",
            prioritized=base + "prio",
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
            dedup_prefix=base + "dedup:",
            stall_guard=base + "stall-guard",
            holders=base + "holders",
            stall_grace=base + "stall-grace",
            workers=base + "workers",
            metrics_prefix=base + "metrics:",
            job_prefix=base + "j:",
            logs_prefix=base + "logs:",
            base=base,
        )

    def job(self, job_id: str) -> str:
        return self.job_prefix + job_id

    def logs(self, job_id: str) -> str:
        return self.logs_prefix + job_id

    def inbox(self, member: str) -> str:
        """The list an idle consumer registered as ``member`` receives handed-off jobs on."""
        return f"{self.idle}:{member}"


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
        login_failures_prefix: counters of recent failed logins (append ``ip:<addr>`` or
            ``user:<name>``); they expire with the lockout window.
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
