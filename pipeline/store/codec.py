"""What crosses the wire between the store and its scripts: the records a call sends
(:class:`Entry`, :class:`Failure`) and the replies it reads back.

Every decoder here reads a script's reply exactly as the script writes it (see the
``returns`` of each script's header); nothing here talks to Redis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple, cast


class Entry(NamedTuple):
    """What ``add.lua`` takes per job."""

    job_id: str
    message: str | bytes
    delay: int
    priority: int
    lifo: bool
    name: str
    dedup_id: str = ""
    dedup_ttl: int = 0
    dedup_mode: str = ""


@dataclass(frozen=True, slots=True)
class Failure:
    """How an attempt failed: the reason, its stack trace and how many traces to keep."""

    reason: str
    stack: str
    stack_limit: int


@dataclass(frozen=True, slots=True)
class Fetched:
    """A job a worker has just taken: its message and lock token."""

    job_id: str
    message: bytes
    attempts_made: int
    token: str


def fetched(out: Any) -> list[Fetched]:
    """Taken jobs from a script's flat reply: id, message, attempts made, token, ..."""
    return [
        Fetched(out[i].decode(), out[i + 1], int(out[i + 2]), out[i + 3].decode())
        for i in range(0, len(out), 4)
    ]


def inbox_entry(raw: bytes) -> Fetched:
    """A job handed to an idle consumer: ``"<token> <attempts> <id length> <id><message>"``."""
    token, attempts, id_len, rest = raw.split(b" ", 3)
    n = int(id_len)
    return Fetched(rest[:n].decode(), rest[n:], int(attempts), token.decode())


def pair_codes(reply: Any) -> list[tuple[int, str]]:
    """``add.lua``'s flat reply as (code, job id) pairs."""
    flat = list(reply)
    return [(int(flat[i]), flat[i + 1].decode()) for i in range(0, len(flat), 2)]


def record(flat: list[bytes]) -> dict[str, str] | None:
    """A job record from ``get_jobs.lua``'s flat field/value reply (``None``: no such job).

    Values are decoded with surrogateescape: a message of a non-UTF-8 encoder (pickle)
    survives, byte for byte.
    """
    if not flat:
        return None
    it = iter(flat)
    return {f.decode(): v.decode(errors="surrogateescape") for f, v in zip(it, it, strict=True)}


def ok(reply: Any) -> bool:
    """A script's 1 (done) or 0 (not done) as a bool."""
    return int(reply) == 1


def decoded(raw: Any) -> list[str]:
    """A reply's list of byte strings as text."""
    return [item.decode() for item in cast(list[bytes], raw)]


def decode_json(raw: str | None) -> Any:
    """A JSON field of a job record (``None`` when absent or empty)."""
    return None if raw is None or raw == "" else json.loads(raw)
