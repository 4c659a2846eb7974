"""One process-wide view of whether Redis answers, so an outage logs a few lines, not a storm.

Every background thread of a worker (consumers, lock renewal, heartbeats, cancel
checks) meets the same outage at the same time.  Each reports its connection
errors here and retries on its own short cadence; this object writes one line
per backoff step for the whole process (0.1 s, doubling to 5 s between lines,
no traceback for a known connection error) and one line when Redis answers again.
"""

from __future__ import annotations

import logging
import threading
import time

from pipeline.connection import describe_error

#: Shortest and longest time between two "still unreachable" lines.
FIRST_NOTICE_S = 0.1
LONGEST_NOTICE_S = 5.0


class ConnectionWatch:
    """Tracks one Redis address's outages for a process and logs them sparingly."""

    def __init__(self, address: str, logger: logging.Logger | None = None) -> None:
        self.address = address
        self.logger = logger or logging.getLogger("pipeline.connection")
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._next_notice = 0.0
        self._step = FIRST_NOTICE_S

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def failed(self, exc: BaseException, what: str) -> None:
        """Report that ``what`` (e.g. "lock renewal") failed to reach Redis with ``exc``."""
        now = time.monotonic()
        with self._lock:
            if self._down_since is None:
                self._down_since = now
                self._step = FIRST_NOTICE_S
                self._next_notice = now
            if now < self._next_notice:
                return
            self._next_notice = now + self._step
            self._step = min(self._step * 2, LONGEST_NOTICE_S)
            down_for = now - self._down_since
        self.logger.warning(
            "Redis at %s unreachable for %.1f s (%s: %s); retrying.",
            self.address,
            down_for,
            what,
            describe_error(exc),
        )

    def ok(self) -> None:
        """Report a successful round trip; logs once when an outage ends."""
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is None:
                return
            down_for = time.monotonic() - self._down_since
            self._down_since = None
        self.logger.warning("Redis at %s answers again after %.1f s.", self.address, down_for)
