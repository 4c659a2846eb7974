"""The local wall clock, as a value that can be passed in.

Scheduling is decided on Redis's clock (``TIME`` inside the scripts), so hosts whose
clocks disagree still agree on when a job is due or a lock expires.  The local clock
only stamps what a process writes (a job's ``timestamp``, the ``now`` the scripts are
given) and measures ages for reports.  Components that read it take a ``clock``
argument, the system clock by default, so a test can stand in a skewed one.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Milliseconds since the Unix epoch, as this host sees them."""

    def __call__(self) -> int: ...


def now_ms() -> int:
    """The system clock: the default :class:`Clock`."""
    return int(time.time() * 1000)
