"""Bull's local pause: the queues whose jobs this process's workers must not start.

One set per process, shared by every broker of the process (its consumers read it
before each fetch), so ``Queue.pause_local`` needs no broker and builds none.
"""

from __future__ import annotations

#: Names of the queues paused in this process only.
LOCALLY_PAUSED: set[str] = set()
