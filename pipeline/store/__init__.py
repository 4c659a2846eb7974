"""One queue's job store in Redis: every read and every atomic transition.

Both sides use it: producers (``Queue``) and the broker's consumer.  Each
transition is one Lua script (see ``pipeline/scripts``), so a job is in
exactly one state at every instant, even when a process dies mid-way.

It is split by role, one module each:

- ``base``: what every role shares (the queue's client, scripts, keys and clock);
- ``codec``: the records a call sends and the decoding of script replies;
- ``script_keys``: the KEYS of every script, written once, in its header's order;
- ``producer``: adding jobs;
- ``worker``: what a worker does (fetch, complete, fail, retry, requeue, progress,
  logs, lock renewal, the stall sweep);
- ``admin``: what an operator does (remove, retry, cancel, reschedule, clean, drain,
  promote, obliterate, pause, rate limits);
- ``reads``: records, listings, counts, logs, the rate limit.

:class:`QueueStore` is all of them on one queue; the job input they store is checked
and encoded beforehand, in :mod:`pipeline.prepare`.
"""

from __future__ import annotations

from pipeline.clock import now_ms
from pipeline.store.admin import AdminStore
from pipeline.store.base import StoreBase
from pipeline.store.codec import Entry, Failure, Fetched, decode_json, inbox_entry, pair_codes
from pipeline.store.producer import ProducerStore
from pipeline.store.reads import ReadStore
from pipeline.store.worker import MAX_LOG_LINES, WorkerStore

__all__ = [
    "MAX_LOG_LINES",
    "AdminStore",
    "Entry",
    "Failure",
    "Fetched",
    "ProducerStore",
    "QueueStore",
    "ReadStore",
    "StoreBase",
    "WorkerStore",
    "decode_json",
    "inbox_entry",
    "now_ms",
    "pair_codes",
]


class QueueStore(ProducerStore, WorkerStore, AdminStore, ReadStore):
    """Reads and transitions of the jobs of one queue: every role of the store."""
