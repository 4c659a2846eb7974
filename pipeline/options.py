"""Validation of job options and data, and the backoff arithmetic.

Options use Bull's names in snake_case.  They travel inside the Dramatiq
message's ``options`` (``timeout`` under Dramatiq's own name, ``time_limit``),
so a worker reads them the Dramatiq way: message options, then actor options,
then the middleware default.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pipeline.errors import InvalidJobError

MAX_PRIORITY = 2**21
MAX_NAME_LENGTH = 200
DEFAULT_STACKTRACE_LIMIT = 10

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
        if not value.is_integer():
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
        return {"type": "fixed", "delay": _int(value, "backoff", queue, minimum=0)}
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
    delay = _int(value.get("delay", 0), "backoff.delay", queue, minimum=0)
    return {"type": kind, "delay": delay}


def _remove_option(value: Any, field: str, queue: str | None) -> bool | int:
    if isinstance(value, bool):
        return value
    return _int(value, field, queue, minimum=0)


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
            out[key] = _int(value, key, queue, minimum=1)
        elif key == "backoff":
            out[key] = validate_backoff(value, queue)
        elif key == "timeout":
            out[key] = _int(value, key, queue, minimum=1)
        elif key in ("remove_on_complete", "remove_on_fail"):
            out[key] = _remove_option(value, key, queue)
        elif key in ("stacktrace_limit", "delay"):
            out[key] = _int(value, key, queue, minimum=0)
        elif key == "priority":
            out[key] = _int(value, key, queue, minimum=0, maximum=MAX_PRIORITY)
        elif key == "lifo":
            if not isinstance(value, bool):
                raise _fail(f"option 'lifo' must be a bool, got {value!r}", queue, key)
            out[key] = value
        elif key == "repeat":
            if not isinstance(value, Mapping):
                raise _fail(f"option 'repeat' must be a mapping, got {value!r}", queue, key)
            out[key] = dict(value)
    return out


def validate_name(name: Any, queue: str | None = None) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise _fail(f"job name must be 1-{MAX_NAME_LENGTH} printable characters, got {name!r}", queue, "name")
    return name


def validate_queue_name(name: Any) -> str:
    if (
        not isinstance(name, str)
        or not name
        or len(name) > MAX_NAME_LENGTH
        or any(c in name for c in "{}")
        or not name.isprintable()
    ):
        raise InvalidJobError(
            f"queue name must be 1-{MAX_NAME_LENGTH} printable characters without braces, got {name!r}"
        )
    return name


def check_data(data: Any, queue: str | None = None) -> dict[str, Any]:
    """Job data must be a JSON object (a dict with string keys)."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _fail(f"job data must be a JSON object (dict), got {type(data).__name__}", queue, "data")
    for key in data:
        if not isinstance(key, str):
            raise _fail(f"job data keys must be strings, got {key!r}", queue, "data")
    return data


def encode_json(value: Any, what: str, queue: str | None = None) -> str:
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
