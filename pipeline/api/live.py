"""Live updates: the queues' event streams relayed to the console as server-sent events.

One SSE connection follows any number of queues.  Each message's ``id`` is the
position in every followed stream (``queue=stream-id`` pairs), so a reconnecting
browser (``Last-Event-ID``, or ``last_id`` in the query) resumes where it stopped and
misses nothing still in the streams.  While Redis is unreachable the connection stays
open and says so (``unavailable``), then ``available`` once Redis answers again.

One Redis node serves every stream with one blocking ``XREAD``.  On a cluster each
queue's stream lives in its own slot and ``XREAD`` may not span slots, so the feed
reads every slot's streams without blocking, in one pipeline (one round trip per
master), and waits ``POLL_S`` between rounds that found nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, cast
from urllib.parse import parse_qsl, urlencode

import redis.asyncio as aioredis
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.crc import key_slot

from pipeline import wiring
from pipeline.api.deps import UnknownQueueError, known_queue_names
from pipeline.api.problems import InvalidRequestError
from pipeline.connection import PING_ERRORS, is_cluster, is_unavailable, make_async_client
from pipeline.keys import QueueKeys, queues_set
from pipeline.options import validate_queue_name

router = APIRouter(tags=["live"])

#: How long one read waits for events; also how often the connection shows it is alive.
BLOCK_MS = 5_000
#: Events relayed per read at most, so a burst reaches the page in slices.
BATCH = 500
MAX_QUEUES = 200
#: On a cluster, the pause between two reads of every slot that found nothing.
POLL_S = 0.25

Entries = list[tuple[bytes, dict[bytes, bytes]]]
AnyClient = aioredis.Redis | AsyncRedisCluster


def _positions(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    return {q: i for q, i in parse_qsl(raw) if _valid_stream_id(i)}


def _valid_stream_id(text: str) -> bool:
    left, _, right = text.partition("-")
    return left.isdigit() and right.isdigit() and len(text) <= 41


@router.get(
    "/live", response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}}
)
async def live(
    request: Request,
    queues: Annotated[
        str | None, Query(max_length=20_000, description="comma-separated; all when absent")
    ] = None,
    last_id: Annotated[str | None, Query(max_length=20_000, description="the last message id seen")] = None,
) -> StreamingResponse:
    """Server-sent events: ``job`` (one lifecycle event of a followed queue: queue, event,
    job_id, payload), ``queues`` (the set of queues changed), ``unavailable``/``available``
    (Redis went away / came back) and a comment line every few seconds."""
    names = await asyncio.to_thread(known_queue_names)
    if queues:
        wanted = [q for q in queues.split(",") if q]
        if len(wanted) > MAX_QUEUES:
            raise InvalidRequestError(f"follow at most {MAX_QUEUES} queues per connection", field="queues")
        for name in wanted:
            validate_queue_name(name)
            if name not in names:
                raise UnknownQueueError(name)
        names = wanted
    follow_all = not queues
    start = _positions(request.headers.get("last-event-id") or last_id)
    return StreamingResponse(
        _events(names, follow_all, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(names: list[str], follow_all: bool, start: dict[str, str]) -> AsyncIterator[str]:
    settings = wiring.get_settings()
    client = make_async_client(settings)
    stream_of = {n: QueueKeys.for_queue(settings.namespace, n).events for n in names}
    position = {n: start.get(n, "") for n in names}
    down = False
    try:
        yield "retry: 2000\n\n"
        while True:
            try:
                await _pin_new(client, stream_of, position)
                if down:
                    down = False
                    yield _message("available", {}, position)
                reply = await _read(client, {stream_of[n]: n for n in names}, position)
                if not reply:
                    yield ": alive\n\n"
                for name, entries in reply:
                    for entry_id, fields in entries:
                        position[name] = entry_id.decode()
                        yield _message("job", _job_event(name, fields), position)
                if follow_all:
                    members = cast(set[bytes], await client.smembers(queues_set(settings.namespace)))
                    current = sorted(m.decode() for m in members)
                    if current != sorted(names):
                        names[:] = current
                        stream_of = {n: QueueKeys.for_queue(settings.namespace, n).events for n in names}
                        position = {n: position.get(n, "") for n in names}
                        yield _message("queues", {"queues": names}, position)
            except Exception as exc:
                if not (isinstance(exc, PING_ERRORS) or is_unavailable(exc)):
                    raise
                if not down:
                    down = True
                    yield _message("unavailable", {"message": f"Redis is unreachable: {exc}"}, position)
                await asyncio.sleep(1)
    finally:
        await client.aclose()


async def _read(
    client: AnyClient, queue_of: dict[str, str], position: dict[str, str]
) -> list[tuple[str, Entries]]:
    """The followed queues' new entries, waiting up to ``BLOCK_MS`` for some; ``queue_of`` maps
    each stream key to its queue."""
    by_slot: dict[int, dict[Any, Any]] = {}
    for key, name in queue_of.items():
        slot = key_slot(key.encode()) if is_cluster(client) else 0
        by_slot.setdefault(slot, {})[key] = position[name]
    if len(by_slot) <= 1:
        streams = next(iter(by_slot.values()), {})
        if not streams:
            await asyncio.sleep(BLOCK_MS / 1000)
            return []
        return _by_queue(await client.xread(streams, count=BATCH, block=BLOCK_MS), queue_of)
    deadline = asyncio.get_running_loop().time() + BLOCK_MS / 1000
    while True:
        pipe = client.pipeline(transaction=False)
        for streams in by_slot.values():
            pipe.xread(streams, count=BATCH)
        found = [pair for reply in await pipe.execute() for pair in _by_queue(reply, queue_of)]
        if found or asyncio.get_running_loop().time() >= deadline:
            return found
        await asyncio.sleep(POLL_S)


def _by_queue(reply: Any, queue_of: dict[str, str]) -> list[tuple[str, Entries]]:
    pairs = cast(list[tuple[bytes, Entries]], reply or [])
    return [(queue_of[key.decode()], entries) for key, entries in pairs if entries]


async def _pin_new(client: AnyClient, stream_of: dict[str, str], position: dict[str, str]) -> None:
    """A queue followed from now on starts at its stream's newest entry (or the beginning)."""
    for name, pos in position.items():
        if not pos:
            newest = cast(list[tuple[bytes, Any]], await client.xrevrange(stream_of[name], count=1))
            position[name] = newest[0][0].decode() if newest else "0"


def _job_event(queue: str, fields: dict[bytes, bytes]) -> dict[str, Any]:
    decoded = {k.decode(): v.decode(errors="replace") for k, v in fields.items()}
    return {
        "queue": queue,
        "event": decoded.pop("event", ""),
        "job_id": decoded.pop("job_id", ""),
        "payload": {k: v[:1000] for k, v in decoded.items()},
    }


def _message(kind: str, data: dict[str, Any], position: dict[str, str]) -> str:
    return f"event: {kind}\nid: {urlencode(position)}\ndata: {json.dumps(data)}\n\n"
