"""Alert rules: what to watch, read from a file or the environment and validated up front.

A rule is a JSON object (a list of them in ``PIPELINE_ALERT_RULES``, or in the
JSON or TOML file named by ``PIPELINE_ALERT_RULES_FILE``; TOML as ``[[rules]]``)::

    {"name": "email-failing", "queue": "email", "kind": "failure_rate",
     "threshold": 0.2, "window_s": 300, "min_jobs": 10}

=================  =======================================================  ===================
kind               fires while                                              threshold (default)
=================  =======================================================  ===================
``failure_rate``   failed / finished over the last ``window_s`` >= it        fraction 0-1
                   (and at least ``min_jobs`` finished, default 1)
``queue_depth``    waiting (or paused) jobs >= it                            a count
``oldest_waiting`` the next job to run has waited >= it seconds              seconds
``no_workers``     no live worker serves the queue                           (none)
``stalled``        jobs stalled over the last ``window_s`` >= it             a count (1)
=================  =======================================================  ===================

``queue`` may be ``"*"``: the rule then applies to every known queue, each
firing and resolving on its own.  ``name`` defaults to ``<kind>:<queue>``.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigurationError
from pipeline.options import validate_queue_name

KINDS = ("failure_rate", "queue_depth", "oldest_waiting", "no_workers", "stalled")
_FIELDS = {"name", "queue", "kind", "threshold", "window_s", "min_jobs"}
_DEFAULT_THRESHOLD = {"stalled": 1.0, "no_workers": 0.0}
_WINDOWED = {"failure_rate", "stalled"}


@dataclass(frozen=True, slots=True)
class Rule:
    """One alert rule.

    Attributes:
        name: how notifications and ``GET /alerts`` name it (unique).
        queue: the queue it watches, or ``"*"`` for every known queue.
        kind: one of :data:`KINDS`.
        threshold: the value at or above which it fires (see the module's table).
        window_s: the look-back of ``failure_rate`` and ``stalled`` (seconds, whole minutes
            for ``failure_rate``, whose figures are counted per minute).
        min_jobs: ``failure_rate`` only: finished jobs needed in the window before it can fire.
    """

    name: str
    queue: str
    kind: str
    threshold: float
    window_s: int = 300
    min_jobs: int = 1

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "queue": self.queue, "kind": self.kind}
        if self.kind != "no_workers":
            out["threshold"] = self.threshold
        if self.kind in _WINDOWED:
            out["window_s"] = self.window_s
        if self.kind == "failure_rate":
            out["min_jobs"] = self.min_jobs
        return out


def parse_rules(raw: Any, source: str) -> list[Rule]:
    """Rules from decoded JSON/TOML; :class:`ConfigurationError` naming ``source``, the rule and the field."""
    if isinstance(raw, Mapping) and "rules" in raw:
        raw = raw["rules"]
    if not isinstance(raw, list):
        raise ConfigurationError(f"{source}: alert rules must be a list of objects, got {type(raw).__name__}")
    rules = [_rule(item, f"{source}: rule {index + 1}") for index, item in enumerate(raw)]
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise ConfigurationError(f"{source}: two alert rules are named {rule.name!r}")
        seen.add(rule.name)
    return rules


def _rule(item: Any, where: str) -> Rule:
    if not isinstance(item, Mapping):
        raise ConfigurationError(f"{where} must be an object, got {type(item).__name__}")
    unknown = sorted(set(item) - _FIELDS)
    if unknown:
        raise ConfigurationError(f"{where}: unknown field(s) {unknown} (known: {', '.join(sorted(_FIELDS))})")
    kind = item.get("kind")
    if kind not in KINDS:
        raise ConfigurationError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    queue = item.get("queue")
    if queue != "*":
        try:
            queue = validate_queue_name(queue)
        except Exception as exc:
            raise ConfigurationError(f"{where}: 'queue' {exc}") from None
    name = item.get("name", f"{kind}:{queue}")
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError(f"{where}: 'name' must be a non-empty string, got {name!r}")
    where = f"{where} ({name!r})"
    threshold = item.get("threshold", _DEFAULT_THRESHOLD.get(kind))
    if kind != "no_workers":
        threshold = _number(threshold, where, "threshold")
        if kind == "failure_rate" and not 0 < threshold <= 1:
            raise ConfigurationError(
                f"{where}: failure_rate 'threshold' is a fraction in (0, 1], got {threshold}"
            )
        if threshold <= 0:
            raise ConfigurationError(f"{where}: 'threshold' must be > 0, got {threshold}")
    window_s = item.get("window_s", 300)
    if isinstance(window_s, bool) or not isinstance(window_s, int) or window_s < 1:
        raise ConfigurationError(
            f"{where}: 'window_s' must be a whole number of seconds >= 1, got {window_s!r}"
        )
    if kind == "failure_rate" and window_s % 60:
        raise ConfigurationError(
            f"{where}: failure_rate 'window_s' must be whole minutes (failures are counted per minute), "
            f"got {window_s}"
        )
    min_jobs = item.get("min_jobs", 1)
    if isinstance(min_jobs, bool) or not isinstance(min_jobs, int) or min_jobs < 1:
        raise ConfigurationError(f"{where}: 'min_jobs' must be an integer >= 1, got {min_jobs!r}")
    return Rule(name.strip(), queue, kind, float(threshold or 0), window_s, min_jobs)


def _number(value: Any, where: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigurationError(f"{where}: {field!r} must be a number, got {value!r}")
    return float(value)


def load_rules(env: Mapping[str, str] | None = None) -> list[Rule]:
    """The rules of ``PIPELINE_ALERT_RULES`` (JSON) plus those of ``PIPELINE_ALERT_RULES_FILE``."""
    env = os.environ if env is None else env
    rules: list[Rule] = []
    inline = env.get("PIPELINE_ALERT_RULES", "").strip()
    if inline:
        try:
            decoded = json.loads(inline)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"PIPELINE_ALERT_RULES is not valid JSON: {exc}") from None
        rules += parse_rules(decoded, "PIPELINE_ALERT_RULES")
    path_text = env.get("PIPELINE_ALERT_RULES_FILE", "").strip()
    if path_text:
        path = Path(path_text)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"PIPELINE_ALERT_RULES_FILE {path}: {exc.strerror}") from None
        try:
            decoded = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"PIPELINE_ALERT_RULES_FILE {path}: {exc}") from None
        rules += parse_rules(decoded, str(path))
    names = [r.name for r in rules]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ConfigurationError(f"two alert rules are named {duplicate!r}")
    return rules
