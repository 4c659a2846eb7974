"""Bad input is refused with InvalidJobError naming what is wrong, and nothing is written."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import redis
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pipeline.broker import PipelineBroker
from pipeline.errors import InvalidJobError
from pipeline.options import MAX_DATA_DEPTH, MAX_DURATION_MS
from pipeline.queue import Queue
from pipeline.settings import Settings
from pipeline.store import Entry
from tests.support import unique


@pytest.fixture
def q(settings: Settings, client: redis.Redis) -> Iterator[Queue]:
    queue = Queue(unique("q"), settings=settings)
    yield queue
    for key in client.scan_iter(match=f"{settings.namespace}:*", count=1000):
        client.delete(key)


def queue_keys(client: redis.Redis, queue: Queue) -> list[bytes]:
    """Every key of the queue (test-only scan of the test's own namespace)."""
    return list(client.scan_iter(match=f"{queue.settings.namespace}:{{{queue.name}}}:*", count=1000))


def nested(depth: int) -> dict[str, Any]:
    data: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        data = {"d": data}
    return data


BAD_DATA = [
    ({"x": math.nan}, "data.x is nan"),
    ({"x": [1, math.inf]}, "data.x[1] is inf"),
    ({"x": -math.inf}, "data.x is -inf"),
    ({"x": "ok \ud800"}, "data.x holds a string that is not valid text"),
    ({"\udfff": 1}, "data has a key that is not valid text"),
    ({"x": {"y": {1: "one"}}}, "data.x.y has a key that is not a string: 1"),
    ({"x": {(1, 2): "t"}}, "data.x has a key that is not a string"),
    (nested(MAX_DATA_DEPTH + 1), f"nests deeper than {MAX_DATA_DEPTH} levels"),
    (nested(300), f"nests deeper than {MAX_DATA_DEPTH} levels"),
]


@pytest.mark.parametrize(("data", "says"), BAD_DATA)
def test_bad_job_data_is_refused_naming_where_and_nothing_is_written(q, client, data, says):
    with pytest.raises(InvalidJobError, match=says.replace("[", r"\[").replace("(", r"\(")) as caught:
        q.add("job", data)
    assert caught.value.field == "data"
    with pytest.raises(InvalidJobError):
        q.add_bulk([{"name": "good", "data": {}}, {"name": "bad", "data": data}])
    assert queue_keys(client, q) == []


def test_a_repeat_starting_at_the_latest_date_accepted_gets_its_pending_occurrence(q):
    job = q.add("later", {}, repeat={"every": 60_000, "start_date": "2099-12-31T23:00:00+00:00"})
    assert job is not None and job.state == "delayed"
    assert [r.start_date for r in q.get_repeatable_jobs()] == [4_102_441_200_000]


def test_data_nested_exactly_to_the_limit_is_accepted_and_reads_back(q):
    data = nested(MAX_DATA_DEPTH)
    job = q.add("job", data)
    assert q.get_job(job.id).data == data


BAD_OPTIONS = [
    ({"deduplication": {"id": "d", "ttl": 10**18}}, "deduplication.ttl"),
    ({"deduplication": {"id": "\ud800"}}, "deduplication.id"),
    ({"delay": MAX_DURATION_MS + 1}, "delay"),
    ({"delay": math.inf}, "delay"),
    ({"timeout": 10**20}, "timeout"),
    ({"backoff": {"type": "fixed", "delay": 10**16}}, "backoff.delay"),
    ({"attempts": 2**40}, "attempts"),
    ({"remove_on_complete": 2**40}, "remove_on_complete"),
    ({"stacktrace_limit": math.nan}, "stacktrace_limit"),
    ({"repeat": {"every": 10**15}}, "repeat.every"),
    ({"repeat": {"every": 1000, "start_date": 10**17}}, "repeat.start_date"),
    ({"repeat": {"every": 1000, "limit": 2**40}}, "repeat.limit"),
]


@pytest.mark.parametrize(("opts", "field"), BAD_OPTIONS)
def test_out_of_range_options_are_refused_before_anything_is_written(q, client, opts, field):
    with pytest.raises(InvalidJobError, match=field.replace(".", r"\.")):
        q.add("job", {"n": 1}, **opts)
    assert queue_keys(client, q) == []
    assert q.get_job_counts() == dict.fromkeys(("waiting", "delayed", "active", "completed", "failed"), 0)


@pytest.mark.parametrize(
    "bad",
    [
        {"dedup_id": "d", "dedup_mode": "throttle", "dedup_ttl": 10**18},
        {"delay": 10**18},
        {"priority": -1},
    ],
)
def test_the_add_script_refuses_a_malformed_batch_before_writing_any_of_it(q, client, bad):
    # Past the Python checks (another client, a future bug): the script itself writes nothing.
    good = Entry("good", '{"x":1}', 0, 0, False, "job")
    with pytest.raises(redis.ResponseError, match="nothing was written"):
        q.store.add([good, good._replace(job_id="bad", **bad)])
    assert queue_keys(client, q) == []


@pytest.mark.parametrize("name", ["we:ird", "with space", "1starts-with-digit", "", "a{b}", "x" * 201, "é"])
def test_queue_names_no_dramatiq_actor_could_serve_are_refused(settings, name):
    with pytest.raises(InvalidJobError, match="queue name"):
        Queue(name, settings=settings)


@pytest.mark.parametrize(
    "call",
    [
        lambda q: q.get_jobs("waiting", start=2**63),
        lambda q: q.get_jobs("waiting", end=-(2**63)),
        lambda q: q.get_jobs("waiting", start="0"),
        lambda q: q.get_job_logs("x", start=2**64),
        lambda q: q.get_metrics("completed", 0, 2**63),
        lambda q: q.cancel_job("no-such-job", "reason \ud800"),
        lambda q: q.get_job("\ud800"),
        lambda q: q.add_job_log("x", "line \udc80"),
        lambda q: q.reschedule_job("x", 10**18),
        lambda q: q.clean(10**18),
    ],
)
def test_bad_paging_bounds_ids_and_texts_raise_invalid_job_error(q, client, call):
    with pytest.raises(InvalidJobError):
        call(q)
    assert queue_keys(client, q) == []


def test_actor_send_refuses_nan_surrogates_and_deep_data(broker: PipelineBroker, client):
    queue_name = unique("q")

    @dramatiq.actor(queue_name=queue_name)
    def handler(**data: Any) -> None: ...

    queue = broker.queue(queue_name)
    for bad in ({"x": math.nan}, {"x": "\ud800"}, {"x": {1: 2}}, nested(MAX_DATA_DEPTH + 1)):
        with pytest.raises(InvalidJobError):
            handler.send(**bad)
    with pytest.raises(InvalidJobError, match="args"):
        handler.send(math.inf)
    assert queue_keys(client, queue) == []
    handler.send(x=1)
    assert queue.get_job_counts("waiting") == {"waiting": 1}
    for key in client.scan_iter(match=f"{broker.settings.namespace}:*", count=1000):
        client.delete(key)


# -- property: anything add() accepts reads back intact; anything it refuses leaves nothing --------

json_text = st.text(st.characters(codec=None), max_size=12)  # includes lone surrogates
json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | json_text
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(json_text | st.integers(), inner, max_size=3),
    max_leaves=12,
)
job_data = st.dictionaries(json_text, json_value, max_size=4) | st.builds(
    nested, st.integers(min_value=MAX_DATA_DEPTH - 1, max_value=MAX_DATA_DEPTH + 2)
)
big_ms = st.integers(min_value=-5, max_value=2**64) | st.floats()
job_options = st.fixed_dictionaries(
    {},
    optional={
        "delay": big_ms,
        "priority": st.integers(min_value=-1, max_value=2**22),
        "attempts": st.integers(min_value=0, max_value=2**33),
        "timeout": big_ms,
        "backoff": st.fixed_dictionaries(
            {"type": st.sampled_from(["fixed", "exponential"]), "delay": big_ms}
        ),
        "deduplication": st.fixed_dictionaries({"id": json_text, "ttl": big_ms}),
        "stacktrace_limit": st.integers(min_value=-1, max_value=2**33),
    },
)


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=job_data, opts=job_options)
def test_add_either_refuses_with_nothing_written_or_the_job_reads_back_intact(q, data, opts):
    job_id = unique("job")
    before = q.get_job_counts()
    try:
        job = q.add("prop", data, job_id=job_id, **opts)
    except InvalidJobError:
        event("refused")
        assert q.get_job(job_id) is None
        assert q.get_job_counts() == before
        return
    stored = q.get_job(job_id)
    if job.id != job_id:  # deduplicated onto an earlier job: nothing new was created
        assert stored is None
        return
    event("accepted")
    assert stored is not None and stored.unreadable is None
    assert stored.data == data
    assert stored.name == "prop"
    listed = {j.id: j for j in q.get_jobs(str(stored.state))}
    assert listed[job_id].data == data
    q.remove_job(job_id)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(st.tuples(job_data, job_options), min_size=1, max_size=4))
def test_add_bulk_adds_every_job_or_none_of_them(q, batch):
    ids = [unique("job") for _ in batch]
    before = q.get_job_counts()
    specs = [
        {"name": "prop", "data": data, "opts": {**opts, "job_id": i}}
        for (data, opts), i in zip(batch, ids, strict=True)
    ]
    try:
        jobs = q.add_bulk(specs)
    except InvalidJobError:
        event("refused")
        assert [q.get_job(i) for i in ids] == [None] * len(ids)
        assert q.get_job_counts() == before
        return
    event("accepted")
    for job, job_id, (data, _) in zip(jobs, ids, batch, strict=True):
        stored = q.get_job(job_id)
        if job.id != job_id:  # deduplicated onto an earlier job of the batch: not created
            assert stored is None
            continue
        assert stored is not None and stored.data == data
        q.remove_job(job_id)
