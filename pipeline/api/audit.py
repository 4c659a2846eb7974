"""The audit log: every mutating API action, appended to a capped Redis stream."""

from __future__ import annotations

import logging
import time
from typing import Any, cast

import redis

from pipeline import wiring
from pipeline.api.auth import Principal
from pipeline.api.problems import InvalidRequestError
from pipeline.connection import UNAVAILABLE_ERRORS
from pipeline.keys import ApiKeys

logger = logging.getLogger("pipeline.api.audit")


def record(
    principal: Principal | None,
    action: str,
    *,
    outcome: str,
    queue: str = "",
    job: str = "",
    detail: str = "",
    who: str = "",
) -> None:
    """Append one entry; an audit write that fails (Redis down) is logged, never raised,
    so it cannot hide the outcome of the action itself."""
    settings = wiring.get_settings()
    fields = {
        "at": str(int(time.time() * 1000)),
        "who": principal.name if principal else who,
        "role": principal.role.label if principal else "",
        "via": principal.via if principal else "",
        "action": action,
        "queue": queue,
        "job": job,
        "outcome": outcome,
        "detail": detail[:500],
    }
    try:
        wiring.get_client().xadd(
            ApiKeys.for_namespace(settings.namespace).audit,
            fields,  # type: ignore[arg-type]
            maxlen=settings.api_audit_max_len,
            approximate=True,
        )
    except UNAVAILABLE_ERRORS:
        logger.warning("Could not write the audit entry %r (Redis unreachable).", fields)


def read(count: int, before: str | None = None) -> list[dict[str, Any]]:
    """Entries newest first; ``before`` (an entry id) pages further back."""
    settings = wiring.get_settings()
    key = ApiKeys.for_namespace(settings.namespace).audit
    top = f"({before}" if before else "+"
    if before is not None and before.strip("0-") == "":
        return []  # nothing comes before the first possible id
    try:
        raw = wiring.get_client().xrevrange(key, top, "-", count=count)
    except redis.ResponseError:
        raise InvalidRequestError(f"before {before!r} is not an audit entry id", field="before") from None
    rows = cast(list[tuple[bytes, dict[bytes, bytes]]], raw)
    out: list[dict[str, Any]] = []
    for entry_id, fields in rows:
        entry: dict[str, Any] = {k.decode(): v.decode() for k, v in fields.items()}
        entry["id"] = entry_id.decode()
        entry["at"] = int(entry.get("at", 0))
        out.append(entry)
    return out
