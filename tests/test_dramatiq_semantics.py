"""Dramatiq's documented behaviour on PipelineBroker, where Dramatiq's own test
files cannot check it: retries, time limits, shutdown, dead letters, encoders,
results, the constructor and the broker-level API (see compat/ for the rest)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq.encoder import JSONEncoder, PickleEncoder
from dramatiq.errors import ActorNotFound, QueueJoinTimeout
from dramatiq.message import Message
from dramatiq.middleware import CurrentMessage, TimeLimitExceeded
from dramatiq.results import Results, ResultTimeout
from dramatiq.results.backends import RedisBackend

from pipeline.broker import PipelineBroker
from pipeline.job import JobState
from pipeline.results import JobResultBackend
from pipeline.settings import Settings
from tests.support import unique, wait_for


@pytest.fixture
def pickle_encoder() -> Iterator[None]:
    dramatiq.set_encoder(PickleEncoder())
    yield
    dramatiq.set_encoder(JSONEncoder())


def test_on_failure_callbacks_read_dramatiq_retry_metadata(
    broker: PipelineBroker, worker: Callable[..., dramatiq.Worker]
) -> None:
    # Given an actor that always fails, retried twice with a short backoff, and an on_failure callback
    seen: list[dict[str, Any]] = []
    queue = unique("q")

    @dramatiq.actor(queue_name=queue, max_retries=2, min_backoff=10, max_backoff=20)
    def flaky() -> None:
        raise ValueError("boom")

    @dramatiq.actor(queue_name=queue, max_retries=0)
    def on_failure(message_data: dict[str, Any], exception_data: dict[str, Any]) -> None:
        seen.append({**message_data["options"], "type": exception_data["type"]})

    worker()
    # When it is sent with the callback
    flaky.send_with_options(on_failure=on_failure)
    broker.join(queue, timeout=20_000)
    # Then, as in Dramatiq, the callback ran after each failed attempt and read Dramatiq's
    # retries, traceback and requeue timestamp
    assert sorted(options["retries"] for options in seen) == [1, 2, 3]
    for options in seen:
        assert "ValueError: boom" in options["traceback"]
        assert options["requeue_timestamp"] > 0
        assert options["type"] == "ValueError"


def test_a_retried_attempt_sees_how_many_retries_came_before(
    broker: PipelineBroker, worker: Callable[..., dramatiq.Worker]
) -> None:
    broker.add_middleware(CurrentMessage())
    queue = unique("q")
    seen: list[Any] = []

    @dramatiq.actor(queue_name=queue, max_retries=2)
    def counting() -> None:
        current = CurrentMessage.get_current_message()
        assert current is not None
        seen.append(current.options.get("retries"))
        if len(seen) < 3:
            raise dramatiq.Retry(delay=10)

    worker()
    counting.send()
    broker.join(queue, timeout=20_000)
    assert seen == [None, 1, 2]


def test_time_limits_fail_the_job_with_time_limit_exceeded(
    broker: PipelineBroker, worker: Callable[..., dramatiq.Worker]
) -> None:
    broker.emit_after("process_boot")  # as the dramatiq CLI does: starts TimeLimit's monitor
    queue = unique("q")
    finished: list[bool] = []

    @dramatiq.actor(queue_name=queue, max_retries=0, time_limit=300)
    def slow() -> None:
        for _ in range(100):
            time.sleep(0.05)
        finished.append(True)

    worker()
    message = slow.send()
    with pytest.raises(TimeLimitExceeded):
        broker.join(queue, timeout=20_000, fail_fast=True)
    job = broker.queue(queue).get_job(message.message_id)
    assert job is not None and job.state is JobState.FAILED
    assert not finished


def test_jobs_not_started_at_shutdown_go_back_to_waiting_and_none_is_lost(broker: PipelineBroker) -> None:
    # Given one worker thread and two slow jobs
    queue = unique("q")
    started: list[str] = []

    @dramatiq.actor(queue_name=queue)
    def slow(tag: str) -> None:
        started.append(tag)
        time.sleep(0.5)

    first, second = slow.send("a"), slow.send("b")
    w = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    w.start()
    wait_for(lambda: started, message="first job started")
    # When the worker shuts down while the second waits in its prefetch
    w.stop(timeout=10_000)
    # Then the started job completed and the other is waiting again, not lost or active
    q = broker.queue(queue)
    states = {m.message_id: q.get_job(m.message_id).state for m in (first, second)}  # type: ignore[union-attr]
    assert sorted(states.values()) == [JobState.COMPLETED, JobState.WAITING]


def test_delayed_jobs_survive_a_worker_shutdown_in_redis(
    broker: PipelineBroker, worker: Callable[..., dramatiq.Worker]
) -> None:
    queue = unique("q")

    @dramatiq.actor(queue_name=queue)
    def later() -> None: ...

    w = worker()
    message = later.send_with_options(delay=60_000)
    w.stop(timeout=10_000)
    job = broker.queue(queue).get_job(message.message_id)
    assert job is not None and job.state is JobState.DELAYED


def test_failed_and_unroutable_jobs_are_dead_letters_with_their_exception(
    broker: PipelineBroker, worker: Callable[..., dramatiq.Worker]
) -> None:
    # Given a message for an actor nobody declared
    queue = unique("q")
    broker.declare_queue(queue)
    message = Message(queue_name=queue, actor_name="nobody", args=(), kwargs={}, options={})
    broker.enqueue(message)
    worker()
    # Then join(fail_fast=True) raises ActorNotFound, and the job failed saying why
    with pytest.raises(ActorNotFound, match=r"^nobody$"):
        broker.join(queue, timeout=20_000, fail_fast=True)
    assert broker.dead_letters == [message]
    job = broker.queue(queue).get_job(message.message_id)
    assert job is not None and job.state is JobState.FAILED
    assert "no handler" in (job.failed_reason or "")
    # And flushing forgets the dead letters and the failed job
    broker.flush(queue)
    assert broker.dead_letters == []
    assert broker.queue(queue).get_job(message.message_id) is None


def test_pickled_messages_run_and_read_back_unchanged(
    broker: PipelineBroker, worker: Callable[..., dramatiq.Worker], pickle_encoder: None
) -> None:
    # Given Dramatiq's PickleEncoder (its output is not UTF-8, not JSON)
    queue = unique("q")
    got: list[Any] = []

    @dramatiq.actor(queue_name=queue)
    def echo(value: Any) -> None:
        got.append(value)

    value = {"bytes": b"\xff\x00\x80", "tuple": (1, 2), "n": 7}
    # When jobs are sent waiting, prioritised and delayed
    plain = echo.send(value)
    prioritised = echo.send_with_options(args=(value,), priority=3)
    delayed = echo.send_with_options(args=(value,), delay=50.5)
    q = broker.queue(queue)
    job = q.get_job(prioritised.message_id)
    assert job is not None and job.state is JobState.WAITING and job.priority == 3
    worker()
    broker.join(queue, timeout=20_000)
    # Then each ran with its value intact, and the records read back
    assert got == [value, value, value]
    for message in (plain, prioritised, delayed):
        record = q.get_job(message.message_id)
        assert record is not None and record.state is JobState.COMPLETED
        assert record.name == echo.actor_name


def test_float_delays_are_taken_as_dramatiq_takes_them(broker: PipelineBroker) -> None:
    queue = unique("q")

    @dramatiq.actor(queue_name=queue)
    def later() -> None: ...

    message = later.send_with_options(delay=1500.0)
    job = broker.queue(queue).get_job(message.message_id)
    assert job is not None and job.state is JobState.DELAYED and job.delay == 1500


def test_the_constructor_takes_what_redis_broker_takes(settings: Settings) -> None:
    # url=, namespace= and connection parameters, as RedisBroker(url=...) / RedisBroker(host=..., port=...)
    namespace = unique("ns")
    by_url = PipelineBroker(url=settings.redis_url, namespace=namespace, middleware=[])
    parts = redis.Redis.from_url(settings.redis_url).connection_pool.connection_kwargs
    by_parts = PipelineBroker(host=parts["host"], port=parts["port"], db=parts.get("db", 0), middleware=[])
    try:
        assert by_url.settings.namespace == namespace
        assert by_url.client.ping() and by_parts.client.ping()
        assert by_parts.client.connection_pool.connection_kwargs["port"] == parts["port"]
        assert not by_url.middleware
    finally:
        by_url.close()
        by_parts.close()


def test_get_result_with_timeout_zero_raises_at_once(
    broker: PipelineBroker, worker: Callable[..., dramatiq.Worker]
) -> None:
    broker.add_middleware(Results(backend=JobResultBackend()))
    queue = unique("q")

    @dramatiq.actor(queue_name=queue, store_results=True)
    def answer() -> int:
        return 42

    message = answer.send()
    with pytest.raises(ResultTimeout):
        message.get_result(block=True, timeout=0)
    worker()
    assert message.get_result(block=True, timeout=10_000) == 42


def test_a_users_results_backend_is_written_and_read(
    broker: PipelineBroker, worker: Callable[..., dramatiq.Worker], client: redis.Redis
) -> None:
    # Given Dramatiq's RedisBackend added by the user
    namespace = unique("res")
    backend = RedisBackend(client=client, namespace=namespace)
    broker.add_middleware(Results(backend=backend))
    queue = unique("q")

    @dramatiq.actor(queue_name=queue, store_results=True)
    def answer() -> int:
        return 42

    worker()
    try:
        message = answer.send()
        # Then get_result reads that backend, and the job record keeps the value too
        assert broker.get_results_backend() is backend
        assert backend.get_result(message, block=True, timeout=10_000) == 42
        assert message.get_result(block=True, timeout=10_000) == 42
        # Results stores the value before the job's completion is written: wait for that
        job = wait_for(
            lambda: (
                (j := broker.queue(queue).get_job(message.message_id)) and j.state == JobState.COMPLETED and j
            )
        )
        assert job.result == 42
    finally:
        for key in client.scan_iter(match=f"{namespace}*"):
            client.delete(key)


def test_without_a_results_middleware_get_result_raises_as_in_dramatiq(broker: PipelineBroker) -> None:
    queue = unique("q")

    @dramatiq.actor(queue_name=queue)
    def answer() -> int:
        return 42

    message = answer.send()
    with pytest.raises(RuntimeError):
        message.get_result()


def test_join_times_out_and_declared_queues_are_listed(
    broker: PipelineBroker, worker: Callable[..., dramatiq.Worker]
) -> None:
    queue = unique("q")

    @dramatiq.actor(queue_name=queue)
    def slow() -> None:
        time.sleep(1)

    slow.send()
    worker()
    with pytest.raises(QueueJoinTimeout):
        broker.join(queue, timeout=100)
    assert queue in broker.get_declared_queues()
    assert broker.get_declared_delay_queues() == set()


def test_a_consumer_acks_and_nacks_plain_messages_it_holds_and_ignores_others(broker: PipelineBroker) -> None:
    queue = unique("q")

    @dramatiq.actor(queue_name=queue)
    def work() -> None: ...

    sent = work.send()
    consumer = broker.consume(queue, prefetch=2, timeout=1000)
    try:
        taken = next(m for m in consumer if m is not None)
        assert taken.message_id == sent.message_id
        # A message the consumer does not hold: nothing happens
        stranger = Message(queue_name=queue, actor_name=work.actor_name, args=(), kwargs={}, options={})
        consumer.nack(stranger)
        # The plain message of a job it holds: acked as that job
        consumer.ack(Message(**{**sent.asdict(), "args": ()}))
        job = broker.queue(queue).get_job(sent.message_id)
        assert job is not None and job.state is JobState.COMPLETED
    finally:
        consumer.close()
