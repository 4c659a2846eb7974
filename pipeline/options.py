"""Validation of job options and data, and the backoff arithmetic.

Options use Bull's names in snake_case.  They travel inside the Dramatiq
message's ``options`` (``timeout`` under Dramatiq's own name, ``time_limit``),
so a worker reads them the Dramatiq way: message options, then actor options,
then the middleware default.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from pipeline.errors import InvalidJobError
from pipeline.triggers import RepeatTrigger, parse_zone

MAX_PRIORITY = 2**21
MAX_NAME_LENGTH = 200
DEFAULT_STACKTRACE_LIMIT = 10
#: Deepest nesting of job data (the data object itself is level 1); deeper data is refused.
MAX_DATA_DEPTH = 32
#: Longest duration any option takes (delay, timeout, backoff, every, ttl): 100 years in ms.
#: Scripts add durations to Redis's clock; this keeps every sum an exact integer there.
MAX_DURATION_MS = 100 * 365 * 24 * 3600 * 1000
#: Latest ``repeat.start_date``: 2100-01-01 UTC in epoch ms, so a first occurrence's delay
#: always lies within ``MAX_DURATION_MS``; the latest ``repeat.end_date``: 3000-01-01 UTC.
MAX_START_MS = 4_102_444_800_000
MAX_EPOCH_MS = 32_503_680_000_000
#: Largest count option (attempts, remove_on_*, stacktrace_limit, repeat.limit).
MAX_COUNT = 2**31 - 1
#: Paging bounds (``start``/``end`` of listings) lie within +/- this.
MAX_INDEX = 2**53
#: Dramatiq's rule for actor queue names: a queue named otherwise could never be served.
QUEUE_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9._-]*")

#: Every option ``Queue.add`` accepts.
JOB_OPTIONS = frozenset(
    {
        "job_id",
        "attempts",
        "backoff",
        "timeout",
        "remove_on_complete",
        "remove_on_fail",
        "stacktrace_limit",
        "delay",
        "priority",
        "lifo",
        "repeat",
        "deduplication",
    }
)

#: Options a ``pipeline.actor`` may set as defaults for its jobs.
ACTOR_JOB_OPTIONS = frozenset(
    {"attempts", "backoff", "timeout", "remove_on_complete", "remove_on_fail", "stacktrace_limit"}
)

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def _fail(message: str, queue: str | None, field: str) -> InvalidJobError:
    return InvalidJobError(message, queue=queue, field=field)


def _int(value: Any, field: str, queue: str | None, *, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"option {field!r} must be an integer, got {value!r}", queue, field)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise _fail(f"option {field!r} must be a whole number, got {value!r}", queue, field)
        value = int(value)
    if value < minimum:
        raise _fail(f"option {field!r} must be >= {minimum}, got {value}", queue, field)
    if maximum is not None and value > maximum:
        raise _fail(f"option {field!r} must be <= {maximum}, got {value}", queue, field)
    return int(value)


def validate_backoff(value: Any, queue: str | None = None) -> dict[str, Any]:
    """Normalise ``backoff`` to ``{"type": "fixed"|"exponential", "delay": ms}``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"type": "fixed", "delay": _int(value, "backoff", queue, minimum=0, maximum=MAX_DURATION_MS)}
    if not isinstance(value, Mapping):
        raise _fail(f"option 'backoff' must be an int (ms) or a mapping, got {value!r}", queue, "backoff")
    unknown = set(value) - {"type", "delay"}
    if unknown:
        raise _fail(f"option 'backoff' has unknown keys {sorted(unknown)}", queue, "backoff")
    kind = value.get("type", "fixed")
    if kind not in ("fixed", "exponential"):
        raise _fail(
            f"option 'backoff' has unknown type {kind!r} (use 'fixed' or 'exponential')", queue, "backoff"
        )
    delay = _int(value.get("delay", 0), "backoff.delay", queue, minimum=0, maximum=MAX_DURATION_MS)
    return {"type": kind, "delay": delay}


def _remove_option(value: Any, field: str, queue: str | None) -> bool | int:
    if isinstance(value, bool):
        return value
    return _int(value, field, queue, minimum=0, maximum=MAX_COUNT)


def validate_options(
    opts: Mapping[str, Any], queue: str | None = None, *, allowed: frozenset[str] = JOB_OPTIONS
) -> dict[str, Any]:
    """Check ``opts`` and return them normalised; raise :class:`InvalidJobError` naming the bad one."""
    out: dict[str, Any] = {}
    for key, value in opts.items():
        if key not in allowed:
            hint = _snake(key)
            extra = f" (did you mean {hint!r}?)" if hint in allowed else ""
            raise _fail(f"unknown job option {key!r}{extra}", queue, key)
        if value is None:
            continue
        if key == "job_id":
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise _fail(f"option 'job_id' must be a string, got {value!r}", queue, key)
            job_id = str(value)
            if not job_id or len(job_id) > MAX_NAME_LENGTH or not job_id.isprintable():
                raise _fail(f"option 'job_id' must be 1-{MAX_NAME_LENGTH} printable characters", queue, key)
            out[key] = job_id
        elif key == "attempts":
            out[key] = _int(value, key, queue, minimum=1, maximum=MAX_COUNT)
        elif key == "backoff":
            out[key] = validate_backoff(value, queue)
        elif key == "timeout":
            out[key] = _int(value, key, queue, minimum=1, maximum=MAX_DURATION_MS)
        elif key in ("remove_on_complete", "remove_on_fail"):
            out[key] = _remove_option(value, key, queue)
        elif key == "stacktrace_limit":
            out[key] = _int(value, key, queue, minimum=0, maximum=MAX_COUNT)
        elif key == "delay":
            out[key] = _int(value, key, queue, minimum=0, maximum=MAX_DURATION_MS)
        elif key == "priority":
            out[key] = _int(value, key, queue, minimum=0, maximum=MAX_PRIORITY)
        elif key == "lifo":
            if not isinstance(value, bool):
                raise _fail(f"option 'lifo' must be a bool, got {value!r}", queue, key)
            out[key] = value
        elif key == "repeat":
            out[key] = validate_repeat(value, queue)
        elif key == "deduplication":
            out[key] = validate_deduplication(value, queue)
    if out.get("deduplication", {}).get("mode") == "debounce" and not out.get("delay"):
        raise _fail("deduplication mode 'debounce' needs a 'delay' to extend", queue, "deduplication")
    if "repeat" in out and out.get("delay"):
        raise _fail("option 'delay' cannot be combined with 'repeat' (use repeat.start_date)", queue, "delay")
    return out


#: Keys of the ``repeat`` option.
REPEAT_KEYS = frozenset({"cron", "every", "tz", "start_date", "end_date", "limit"})


def validate_repeat(value: Any, queue: str | None = None) -> dict[str, Any]:
    """Check the ``repeat`` option; return it with dates as epoch ms.

    ``cron`` (5 or 6 fields) or ``every`` (ms), exactly one; ``tz`` an IANA zone for
    ``cron`` (default UTC); ``start_date`` / ``end_date`` a datetime (naive: in
    ``tz``), an ISO 8601 string or epoch ms; ``limit`` the most occurrences, >= 1.
    """
    if not isinstance(value, Mapping):
        raise _fail(f"option 'repeat' must be a mapping, got {value!r}", queue, "repeat")
    for key in value:
        if key not in REPEAT_KEYS:
            hint = {"pattern": "cron"}.get(key, _snake(str(key)))
            extra = f" (did you mean {hint!r}?)" if hint in REPEAT_KEYS else ""
            raise _fail(f"unknown repeat option {key!r}{extra}", queue, "repeat")
    spec = {k: v for k, v in value.items() if v is not None}
    if ("cron" in spec) == ("every" in spec):
        which = "both" if "cron" in spec else "neither"
        raise _fail(f"option 'repeat' needs exactly one of 'cron' or 'every', got {which}", queue, "repeat")
    out: dict[str, Any] = {}
    if "cron" in spec:
        if not isinstance(spec["cron"], str):
            raise _fail(f"repeat.cron must be a string, got {spec['cron']!r}", queue, "repeat.cron")
        out["cron"] = " ".join(spec["cron"].split())
    else:
        out["every"] = _int(spec["every"], "repeat.every", queue, minimum=1, maximum=MAX_DURATION_MS)
    zone = None
    if "tz" in spec:
        if "every" in out:
            raise _fail("repeat.tz applies to 'cron' only ('every' counts real time)", queue, "repeat.tz")
        try:
            zone = parse_zone(spec["tz"]) if isinstance(spec["tz"], str) else None
        except ValueError as exc:
            raise _fail(f"repeat.tz: {exc}", queue, "repeat.tz") from None
        if zone is None:
            raise _fail(f"repeat.tz must be a string, got {spec['tz']!r}", queue, "repeat.tz")
        out["tz"] = zone.key
    for key in ("start_date", "end_date"):
        if key in spec:
            latest = MAX_START_MS if key == "start_date" else MAX_EPOCH_MS
            out[key] = _epoch_ms(spec[key], f"repeat.{key}", queue, zone, latest)
    if "start_date" in out and "end_date" in out and out["end_date"] <= out["start_date"]:
        raise _fail("repeat.end_date must be after repeat.start_date", queue, "repeat.end_date")
    if "limit" in spec:
        out["limit"] = _int(spec["limit"], "repeat.limit", queue, minimum=1, maximum=MAX_COUNT)
    try:
        RepeatTrigger(cron=out.get("cron"), every=out.get("every"), tz=out.get("tz"))
    except ValueError as exc:
        raise _fail(
            f"repeat.cron {out.get('cron')!r} is not a valid cron expression: {exc}", queue, "repeat.cron"
        ) from None
    return out


def _epoch_ms(value: Any, field: str, queue: str | None, zone: tzinfo | None, latest: int) -> int:
    """A datetime, ISO 8601 string or epoch ms as epoch ms; naive times are read in ``zone`` (UTC)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _int(value, field, queue, minimum=0, maximum=latest)
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _fail(f"option {field!r} is not an ISO 8601 date: {value!r}", queue, field) from None
    if not isinstance(moment, datetime):
        raise _fail(
            f"option {field!r} must be a datetime, ISO string or epoch ms, got {value!r}", queue, field
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone or UTC)
    try:
        epoch_ms = int(moment.timestamp() * 1000)
    except (OverflowError, ValueError, OSError):
        epoch_ms = -1
    if not 0 <= epoch_ms <= latest:
        year = datetime.fromtimestamp(latest / 1000, UTC).year
        raise _fail(f"option {field!r} must lie between 1970 and {year}, got {value!r}", queue, field)
    return epoch_ms


def validate_name(name: Any, queue: str | None = None) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise _fail(f"job name must be 1-{MAX_NAME_LENGTH} printable characters, got {name!r}", queue, "name")
    return name


def validate_queue_name(name: Any) -> str:
    """A queue name as Dramatiq accepts one for an actor (a letter or ``_``, then letters,
    digits, ``.``, ``_``, ``-``), at most ``MAX_NAME_LENGTH`` long: any other name could be
    added to but never served."""
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH or not QUEUE_NAME.fullmatch(name):
        raise InvalidJobError(
            f"queue name must be 1-{MAX_NAME_LENGTH} characters: a letter or '_', then letters, digits, "
            f"'.', '_' or '-' (Dramatiq's rule for actor queues), got {name!r}",
            field="queue",
        )
    return name


def check_data(data: Any, queue: str | None = None) -> dict[str, Any]:
    """Job data must be a JSON object: see :func:`check_json`."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _fail(f"job data must be a JSON object (dict), got {type(data).__name__}", queue, "data")
    check_json(data, "data", queue)
    return data


def check_json(value: Any, where: str, queue: str | None = None, field: str = "data") -> None:
    """Refuse what would not read back as it was written, naming where it is (``data.a[2]``).

    Strings and keys must be valid Unicode text (no lone surrogates), numbers finite (no
    NaN/Infinity: not JSON), keys of every object strings (JSON would silently turn ``1``
    into ``"1"``), and nesting at most ``MAX_DATA_DEPTH`` levels.  Other types are left to
    the encoder, which refuses what it cannot write.
    """
    stack: list[tuple[Any, str, int]] = [(value, where, 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if not is_utf8_text(item):
                raise _fail(f"{path} holds a string that is not valid text (a lone surrogate)", queue, field)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise _fail(f"{path} is {item!r}, which JSON cannot hold", queue, field)
        elif isinstance(item, dict | list | tuple):
            if depth > MAX_DATA_DEPTH:
                raise _fail(f"{path} nests deeper than {MAX_DATA_DEPTH} levels", queue, field)
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str):
                        raise _fail(f"{path} has a key that is not a string: {key!r}", queue, field)
                    if not is_utf8_text(key):
                        raise _fail(f"{path} has a key that is not valid text: {key!r}", queue, field)
                    stack.append((child, f"{path}.{key}", depth + 1))
            else:
                stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))


def is_utf8_text(text: str) -> bool:
    """Whether ``text`` encodes to UTF-8 (it holds no lone surrogate)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_text(value: Any, what: str, queue: str | None = None) -> str:
    """A string argument (job id, reason, log line) Redis can store: valid text."""
    if not isinstance(value, str) or not is_utf8_text(value):
        raise _fail(f"{what} must be valid text, got {value!r}", queue, what)
    return value


def check_index(value: Any, what: str, queue: str | None = None) -> int:
    """A paging bound (``start``/``end``): an int within +/- ``MAX_INDEX``."""
    if isinstance(value, bool) or not isinstance(value, int) or not -MAX_INDEX <= value <= MAX_INDEX:
        raise _fail(f"{what} must be an int between -2**53 and 2**53, got {value!r}", queue, what)
    return value


def encode_json(value: Any, what: str, queue: str | None = None) -> str:
    check_json(value, what, queue, what)
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise _fail(f"{what} is not JSON-serialisable: {exc}", queue, what) from None


def backoff_delay(backoff: Mapping[str, Any] | None, retry_number: int) -> int:
    """Milliseconds to wait before retry ``retry_number`` (1-based).

    ``fixed`` waits ``delay`` every time; ``exponential`` waits ``delay * 2**(n-1)``.
    """
    if not backoff:
        return 0
    delay = int(backoff.get("delay", 0))
    if backoff.get("type") == "exponential":
        return int(delay * 2 ** max(retry_number - 1, 0))
    return delay


def keep_count(value: bool | int | None) -> int:
    """Map remove_on_complete/remove_on_fail to the scripts' ``keep`` argument."""
    if value is None or value is False:
        return -1
    if value is True:
        return 0
    return int(value)


def validate_limiter(value: Any, queue: str | None = None) -> dict[str, Any]:
    """Check a rate limiter ``{"max": n, "duration": ms, "group_key": field?}``."""
    if not isinstance(value, Mapping):
        raise _fail(f"limiter must be a mapping, got {value!r}", queue, "limiter")
    unknown = set(value) - {"max", "duration", "group_key"}
    if unknown:
        raise _fail(f"limiter has unknown keys {sorted(unknown)}", queue, "limiter")
    if "max" not in value or "duration" not in value:
        raise _fail("limiter needs both 'max' and 'duration'", queue, "limiter")
    out: dict[str, Any] = {
        "max": _int(value["max"], "limiter.max", queue, minimum=1, maximum=MAX_COUNT),
        "duration": _int(value["duration"], "limiter.duration", queue, minimum=1, maximum=MAX_DURATION_MS),
    }
    group_key = value.get("group_key")
    if group_key is not None:
        if not isinstance(group_key, str) or not group_key:
            raise _fail(f"limiter.group_key must be a non-empty string, got {group_key!r}", queue, "limiter")
        out["group_key"] = group_key
    return out


def validate_deduplication(value: Any, queue: str | None = None) -> dict[str, Any]:
    """Check ``{"id": str, "ttl": ms?, "mode": "throttle"|"debounce"}``.

    Without ``ttl`` an add with a taken id is ignored while the owning job has
    not finished; with ``ttl`` it is ignored for ``ttl`` ms (throttle).  In
    ``debounce`` mode the add instead replaces the pending job's data and
    restarts its delay.
    """
    if not isinstance(value, Mapping):
        raise _fail(f"option 'deduplication' must be a mapping, got {value!r}", queue, "deduplication")
    unknown = set(value) - {"id", "ttl", "mode"}
    if unknown:
        raise _fail(f"option 'deduplication' has unknown keys {sorted(unknown)}", queue, "deduplication")
    dedup_id = value.get("id")
    if (
        not isinstance(dedup_id, str)
        or not dedup_id
        or len(dedup_id) > MAX_NAME_LENGTH
        or not is_utf8_text(dedup_id)
    ):
        raise _fail(
            f"deduplication.id must be 1-{MAX_NAME_LENGTH} characters of valid text, got {dedup_id!r}",
            queue,
            "deduplication",
        )
    out: dict[str, Any] = {"id": dedup_id}
    if value.get("ttl") is not None:
        out["ttl"] = _int(value["ttl"], "deduplication.ttl", queue, minimum=1, maximum=MAX_DURATION_MS)
    mode = value.get("mode", "throttle")
    if mode not in ("throttle", "debounce"):
        raise _fail(
            f"deduplication.mode must be 'throttle' or 'debounce', got {mode!r}", queue, "deduplication"
        )
    out["mode"] = mode
    return out
