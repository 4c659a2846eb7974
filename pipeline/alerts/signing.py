"""Webhook signatures: HMAC-SHA256 over the timestamp and the body, with a shared secret.

The header ``X-Pipeline-Signature: t=<unix seconds>,v1=<hex>`` signs
``"<t>.<body>"``; a receiver recomputes it with the secret, compares in
constant time, and refuses old timestamps so a captured request cannot be
replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Pipeline-Signature"


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for ``body``."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(secret: str, header: str, body: bytes, tolerance_s: int = 300, now: float | None = None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within ``tolerance_s`` of now."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        t = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, body, t).split("v1=", 1)[1], given)
