"""Every way in prepares a job the same way: ``Queue.add``, ``add_bulk`` and ``actor.send``
store the same record for the same job, and refuse bad input before anything is written."""

from __future__ import annotations

import json
from collections.abc import Iterator

import dramatiq
import pytest
import redis

from pipeline.broker import PipelineBroker
from pipeline.errors import InvalidJobError
from pipeline.settings import Settings
from tests.support import unique


@pytest.fixture
def cleanup(settings: Settings, client: redis.Redis) -> Iterator[None]:
    yield
    for key in client.scan_iter(match=f"{settings.namespace}:*", count=1000):
        client.delete(key)


def stored(client: redis.Redis, key: str) -> tuple[bytes, dict[str, object]]:
    """A pending job's record: its state letter and priority, and its message less the
    timestamp (each way in stamps its own moment)."""
    raw = client.get(key)
    assert raw is not None
    head, brace, message = raw.partition(b"{")
    fields = json.loads(brace + message)
    del fields["message_timestamp"]
    return head, fields


def test_add_add_bulk_and_send_store_the_same_record_for_the_same_job(
    broker: PipelineBroker, client: redis.Redis, cleanup: None
) -> None:
    queue_name = unique("q")

    @dramatiq.actor(queue_name=queue_name, actor_name=unique("send_me"), job_name="resize")
    def handler(**data: object) -> None: ...

    queue = broker.queue(queue_name)
    added = queue.add("resize", {"w": 150}, priority=3)
    (bulked,) = queue.add_bulk([{"name": "resize", "data": {"w": 150}, "opts": {"priority": 3}}])
    sent = handler.send_with_options(kwargs={"w": 150}, priority=3)

    keys = queue.store.keys
    records = [stored(client, keys.job(job_id)) for job_id in (added.id, bulked.id, sent.message_id)]
    assert records[0] == records[1] == records[2]
    assert records[0][0] == b"w3"
    assert queue.get_job(sent.message_id).name == "resize"


def test_bad_delays_are_refused_by_every_way_in_before_anything_is_written(
    broker: PipelineBroker, client: redis.Redis, cleanup: None
) -> None:
    queue_name = unique("q")

    @dramatiq.actor(queue_name=queue_name)
    def handler() -> None: ...

    queue = broker.queue(queue_name)
    with pytest.raises(InvalidJobError, match="delay") as by_add:
        queue.add("job", {}, delay=-1)
    with pytest.raises(InvalidJobError, match="delay") as by_bulk:
        queue.add_bulk([{"name": "job", "opts": {"delay": -1}}])
    with pytest.raises(InvalidJobError, match="delay") as by_send:
        handler.send_with_options(delay=-1)
    assert by_add.value.field == by_bulk.value.field == by_send.value.field == "delay"
    assert list(client.scan_iter(match=f"{queue.store.keys.base}*")) == []
