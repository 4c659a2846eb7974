"""How a job is written for Redis: its id and its encoded Dramatiq message.

Both sit on the path of every ``add()``, so they avoid the general-purpose
machinery they match: an id in ``uuid.uuid4()``'s format without building a
``UUID`` object, and Dramatiq's default JSON encoding from one reused encoder
instead of ``json.dumps`` building a new one per call (the output is the
same, byte for byte).  Any other Dramatiq encoder a user installs is used as is,
its bytes stored unchanged (they need not be UTF-8 or JSON: ``PickleEncoder``).
"""

from __future__ import annotations

import json
import os
from typing import Any

import dramatiq
from dramatiq.encoder import JSONEncoder

_JSON = json.JSONEncoder(separators=(",", ":"))


def new_job_id() -> str:
    """A random (version 4) UUID string, as ``str(uuid.uuid4())`` gives."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def encode_message(message: dict[str, Any]) -> str | bytes:
    """The message as the installed Dramatiq encoder writes it (TypeError/ValueError if it cannot)."""
    encoder = dramatiq.get_encoder()
    if type(encoder) is JSONEncoder:
        return _JSON.encode(message)
    return encoder.encode(message)


def decode_message(raw: str | bytes) -> dict[str, Any]:
    """A stored message as a dict, whichever encoder wrote it (JSON is read as JSON)."""
    if isinstance(raw, str):
        raw = raw.encode(errors="surrogateescape")  # how job records carry non-UTF-8 messages
    if raw[:1] == b"{":
        try:
            decoded = json.loads(raw)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            return decoded
    fields = dramatiq.get_encoder().decode(raw)
    if not isinstance(fields, dict):
        raise ValueError(f"a stored message decodes to {type(fields).__name__}, not a dict")
    return fields
