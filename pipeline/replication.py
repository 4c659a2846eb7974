"""Adds that return only once replicas hold the jobs (Redis ``WAIT``).

Redis replicates asynchronously: a master acknowledges a write before any replica
has it, so a job added just before the master dies may be missing on the replica
that takes over.  ``WAIT n timeout`` blocks until ``n`` replicas confirm every
write the *same connection* made before it, so the add script and ``WAIT`` go in
one pipeline on one connection, to the master of the queue's slot.  ``WAIT``
does not make Redis strongly consistent (a replica that confirmed may still lose
the race to be promoted, e.g. when several fail at once), but with one replica
per master, a confirmed job survives that master's loss.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import redis
from redis.exceptions import AskError, NoScriptError, ReadOnlyError

from pipeline.connection import node_client, refresh_topology
from pipeline.errors import ReplicationTimeoutError
from pipeline.store import Entry, QueueStore, pair_codes

#: Sends of one batch before a lost node or a moved slot reaches the caller; a cluster's
#: replica is promoted within a few node timeouts, which these retries span.
ATTEMPTS = 12
RETRY_PAUSE_S = 0.25
RESEND_ON = (AskError, NoScriptError, ReadOnlyError, redis.ConnectionError, redis.TimeoutError)


def replicated_add(
    store: QueueStore, entries: Sequence[Entry], replicas: int, timeout_ms: int
) -> list[tuple[int, str]]:
    """Add ``entries`` and wait until ``replicas`` replicas hold them; (code, id) per job as ``add``.

    Sending a batch again is safe: its job ids are fixed, and a job that exists is
    reported as such instead of being added twice.
    """
    for attempt in range(ATTEMPTS):
        pipe = node_client(store.client, store.keys.wait).pipeline(transaction=False)
        for start in range(0, len(entries), 1000):
            keys, args = store.add_args(entries[start : start + 1000])
            store.scripts("add", keys, args, client=pipe)
        pipe.execute_command("WAIT", replicas, timeout_ms)
        try:
            replies = pipe.execute()
            break
        except RESEND_ON as exc:
            # The pipeline went to one server directly.  After a failover it may reach a new
            # master that lacks the script (loaded before the client's own retry switched
            # servers), a cluster slot may have moved (MOVED/ASK) or its master be gone:
            # learn the slot map again and resend.
            if attempt == ATTEMPTS - 1:
                raise
            if not isinstance(exc, NoScriptError):
                time.sleep(RETRY_PAUSE_S)
            refresh_topology(store.client)
    acknowledged = int(replies[-1])
    outcomes: list[tuple[int, str]] = []
    for reply in replies[:-1]:
        outcomes += pair_codes(reply)
    if acknowledged < replicas:
        ids = [job_id for _, job_id in outcomes]
        raise ReplicationTimeoutError(store.queue_name, ids, acknowledged, replicas, timeout_ms)
    return outcomes
