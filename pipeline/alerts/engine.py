"""The alert evaluator, run by every scheduler process; one of them (the lease holder) evaluates.

Each interval every scheduler asks for the lease (``scripts/lease.lua``); the
holder reads each rule's figure from Redis, compares it with the state stored
there, and on a change writes the new state and enqueues the notifications:
an ``alert`` job on the ``email`` queue per recipient and a ``webhook`` job on
the ``alerts`` queue (delivered signed, retried with backoff by the worker).
Notification job ids are derived from (rule, queue, firing since, status), so
even two processes that both believed they held the lease enqueue each
notification once (adding an existing job id adds nothing).  An alert that
stays firing is not notified again; its end is notified once as ``resolved``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import threading
import uuid
from dataclasses import asdict, dataclass
from typing import Any, cast

import redis

from pipeline import wiring
from pipeline.alerts.rules import Rule
from pipeline.clock import Clock, now_ms
from pipeline.connection import make_client
from pipeline.errors import ConfigurationError, PipelineError
from pipeline.keys import AlertKeys, queues_set
from pipeline.metrics import get_workers, oldest_waiting_age_ms
from pipeline.queue import Queue
from pipeline.scripts import Scripts
from pipeline.settings import Settings
from pipeline.states import PAUSED, EventName, JobState

logger = logging.getLogger(__name__)

#: The queue whose worker delivers alert webhooks (``actors.alerts``).
WEBHOOK_QUEUE = "alerts"
EMAIL_QUEUE = "email"


@dataclass(frozen=True, slots=True)
class AlertState:
    """The last evaluation of one rule on one queue.

    Attributes:
        rule, queue, kind, threshold: what was evaluated.
        status: ``firing`` or ``ok``.
        value: the figure read (a rate, a count or seconds).
        since: when the current status began (epoch ms).
        evaluated: when it was last evaluated (epoch ms).
    """

    rule: str
    queue: str
    kind: str
    threshold: float
    status: str
    value: float
    since: int
    evaluated: int


def check_settings(settings: Settings) -> None:
    """Refuse notification settings that could not work, naming the variable."""
    url = settings.alert_webhook_url
    if url and not url.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"PIPELINE_ALERT_WEBHOOK_URL must be an http:// or https:// URL, got {url!r}"
        )
    if url and not settings.alert_webhook_secret:
        raise ConfigurationError(
            "PIPELINE_ALERT_WEBHOOK_SECRET must be set when PIPELINE_ALERT_WEBHOOK_URL is "
            "(webhooks are signed)"
        )
    for address in settings.alert_emails:
        if "@" not in address:
            raise ConfigurationError(f"PIPELINE_ALERT_EMAILS: {address!r} is not an email address")


class AlertEngine:
    """Evaluates ``rules`` once per interval while this process holds the lease."""

    def __init__(
        self,
        rules: list[Rule],
        *,
        settings: Settings | None = None,
        client: redis.Redis | None = None,
        holder: str | None = None,
        clock: Clock = now_ms,
    ) -> None:
        self.rules = rules
        self.clock = clock
        self.settings = settings or wiring.get_settings()
        check_settings(self.settings)
        self.client = client or make_client(self.settings)
        self.scripts = wiring.scripts_for(self.client) if client is not None else Scripts(self.client)
        self.keys = AlertKeys.for_namespace(self.settings.namespace)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.interval_s = self.settings.alert_interval_ms / 1000

    # -- leadership --------------------------------------------------------------------------

    def lead(self) -> bool:
        """Take or renew the lease; whether this process evaluates this interval."""
        lease_ms = int(self.settings.alert_interval_ms * 3)
        return bool(self.scripts("lease", [self.keys.leader], [self.holder, lease_ms]))

    def step_down(self) -> None:
        self.scripts("lease", [self.keys.leader], [self.holder, 0])

    def run(self, stop: threading.Event) -> None:
        """Evaluate every interval until ``stop``; Redis trouble is logged and retried."""
        try:
            while True:
                try:
                    if self.lead():
                        self.evaluate()
                except (redis.RedisError, PipelineError) as exc:
                    logger.warning("Alert evaluation failed (will retry): %s", exc)
                if stop.wait(self.interval_s):
                    return
        finally:
            with contextlib.suppress(redis.RedisError):
                self.step_down()

    # -- evaluating --------------------------------------------------------------------------

    def evaluate(self) -> list[AlertState]:
        """Evaluate every rule now; returns the states that changed (and were notified)."""
        now = self.clock()
        changed = []
        for rule in self.rules:
            for queue_name in self._queues(rule):
                queue = Queue(queue_name, client=self.client, settings=self.settings, clock=self.clock)
                value = self._figure(rule, queue, now)
                firing = self._fires(rule, value, queue)
                change = self._transition(rule, queue_name, value, firing, now)
                if change is not None:
                    changed.append(change[0])
                    self._notify(*change)
        return changed

    def _queues(self, rule: Rule) -> list[str]:
        if rule.queue != "*":
            return [rule.queue]
        names = cast(set[bytes], self.client.smembers(queues_set(self.settings.namespace)))
        return sorted(n.decode() for n in names if n.decode() not in (EMAIL_QUEUE, WEBHOOK_QUEUE))

    def _figure(self, rule: Rule, queue: Queue, now: int) -> float:
        if rule.kind == "failure_rate":
            minutes = rule.window_s // 60
            failed = queue.get_metrics(JobState.FAILED, 0, minutes - 1).count
            completed = queue.get_metrics(JobState.COMPLETED, 0, minutes - 1).count
            finished = failed + completed
            return failed / finished if finished >= rule.min_jobs else 0.0
        if rule.kind == "queue_depth":
            counts = queue.get_job_counts(JobState.WAITING)
            return float(counts.get(JobState.WAITING, 0) + counts.get(PAUSED, 0))
        if rule.kind == "oldest_waiting":
            return (oldest_waiting_age_ms(queue) or 0) / 1000
        if rule.kind == "no_workers":
            return float(len(get_workers(queue)))
        return float(self._stalled_in_window(rule, queue, now))

    def _fires(self, rule: Rule, value: float, queue: Queue) -> bool:
        if rule.kind == "no_workers":
            return value == 0
        return value >= rule.threshold

    def _stalled_in_window(self, rule: Rule, queue: Queue, now: int) -> int:
        """Stalls counted since the oldest sample inside the window (samples kept in Redis, so a
        new leader goes on from the old one's)."""
        total = int(
            cast(bytes | None, self.client.hget(queue.store.keys.metric_totals, EventName.STALLED)) or 0
        )
        field = f"{rule.name}\n{queue.name}"
        raw = cast(bytes | None, self.client.hget(self.keys.samples, field))
        samples = [s for s in (json.loads(raw) if raw else []) if s[0] >= now - rule.window_s * 1000]
        samples.append([now, total])
        self.client.hset(self.keys.samples, field, json.dumps(samples[-1000:]))
        return total - int(samples[0][1])

    def _transition(
        self, rule: Rule, queue: str, value: float, firing: bool, now: int
    ) -> tuple[AlertState, int] | None:
        """Store the evaluation; on a change, the new state and when the firing it starts or
        ends began (the episode both its notifications are keyed on)."""
        field = f"{rule.name}\n{queue}"
        raw = cast(bytes | None, self.client.hget(self.keys.state, field))
        previous = json.loads(raw) if raw else None
        status = "firing" if firing else "ok"
        changed = (previous or {}).get("status", "ok") != status
        since = now if changed or previous is None else int(previous["since"])
        state = AlertState(rule.name, queue, rule.kind, rule.threshold, status, value, since, now)
        self.client.hset(self.keys.state, field, json.dumps(asdict(state)))
        if not changed:
            return None
        logger.warning(
            "Alert %r on queue %r: %s (value %s, threshold %s)",
            rule.name,
            queue,
            status,
            value,
            rule.threshold,
        )
        started = now if firing else int((previous or {}).get("since", now))
        return state, started

    # -- notifying ---------------------------------------------------------------------------

    def _notify(self, state: AlertState, episode: int) -> None:
        payload = notification(state)
        status = payload["status"]
        digest = hashlib.sha256(f"{state.rule}\n{state.queue}\n{episode}".encode()).hexdigest()[:20]
        payload["firing_since"] = episode
        for address in self.settings.alert_emails:
            to = hashlib.sha256(address.encode()).hexdigest()[:8]
            Queue(EMAIL_QUEUE, client=self.client, settings=self.settings).add(
                "alert",
                {"email": address, "subject": payload["summary"], "alert": payload},
                job_id=f"alert:{status}:{digest}:email:{to}",
            )
        if self.settings.alert_webhook_url:
            Queue(WEBHOOK_QUEUE, client=self.client, settings=self.settings).add(
                "webhook",
                {"url": self.settings.alert_webhook_url, "payload": payload},
                job_id=f"alert:{status}:{digest}:webhook",
                attempts=8,
                backoff={"type": "exponential", "delay": 1000},
            )

    def states(self) -> list[AlertState]:
        """Every stored evaluation, firing ones first."""
        raw = cast(dict[bytes, bytes], self.client.hgetall(self.keys.state))
        out = [AlertState(**json.loads(v)) for v in raw.values()]
        return sorted(out, key=lambda s: (s.status != "firing", s.rule, s.queue))


def notification(state: AlertState) -> dict[str, Any]:
    """The JSON body of a webhook (and the content of an alert email)."""
    status = "firing" if state.status == "firing" else "resolved"
    verb = "FIRING" if status == "firing" else "RESOLVED"
    return {
        "alert": state.rule,
        "queue": state.queue,
        "kind": state.kind,
        "status": status,
        "value": state.value,
        "threshold": state.threshold,
        "at": state.evaluated,
        "summary": f"[{verb}] {state.rule} on queue {state.queue}: {state.kind} is {_fmt(state.value)}"
        f" (threshold {_fmt(state.threshold)})",
    }


def _fmt(value: float) -> str:
    return f"{value:.3g}"
