"""Fixtures for Dramatiq's own test files, building ``PipelineBroker``.

Dramatiq's ``stub_broker`` and ``redis_broker`` fixtures both become a
``PipelineBroker`` on the test Redis (``REDIS_URL``, else 127.0.0.1:6379, else
a private ``redis-server``), each on its own random namespace.  Teardown
deletes that namespace's keys and nothing else: Redis is never flushed.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import dramatiq
import pytest
import redis
from dramatiq import Worker
from dramatiq.rate_limits.backends import StubBackend as StubRateLimiterBackend
from dramatiq.results.backends import RedisBackend, StubBackend

from pipeline.broker import PipelineBroker
from pipeline.composition import set_broker
from pipeline.embedded import EmbeddedRedis

# Tests whose work grows with the machine's speed rather than with a deadline: Dramatiq's
# dead-letter cleanup test sends 2 x LUA_MAX_UNPACK_SIZE failing jobs, about 20 s alone on
# two cores and more when the machine is busy, so the run's 30 s per-test limit would turn
# a pass into a timeout.
SLOW_TESTS = {"test_redis_dead_lettered_messages_are_cleaned_up": 240}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        limit = SLOW_TESTS.get(item.name)
        if limit is not None:
            item.add_marker(pytest.mark.timeout(limit))


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    if _answers(url):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.exit("no Redis answers on 127.0.0.1:6379 and redis-server is not installed", returncode=2)
    server = EmbeddedRedis(binary)
    try:
        yield server.url
    finally:
        server.stop()


def _namespace() -> str:
    return f"dqcompat-{uuid.uuid4().hex[:12]}"


def _delete_namespace(client: redis.Redis, namespace: str) -> None:
    keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])


def _broker(redis_url: str) -> Iterator[PipelineBroker]:
    namespace = _namespace()
    broker = PipelineBroker(url=redis_url, namespace=namespace)
    broker.emit_after("process_boot")
    set_broker(broker)
    try:
        yield broker
    finally:
        broker.flush_all()
        _delete_namespace(broker.client, namespace)
        broker.close()
        broker.client.close()


@pytest.fixture
def stub_broker(redis_url: str) -> Iterator[PipelineBroker]:
    for broker in _broker(redis_url):
        broker.fail_fast_default = True  # Dramatiq's stub broker joins with fail_fast on
        yield broker


@pytest.fixture
def redis_broker(redis_url: str) -> Iterator[PipelineBroker]:
    yield from _broker(redis_url)


def _worker(broker: PipelineBroker) -> Iterator[Worker]:
    worker = Worker(broker, worker_timeout=100, worker_threads=32)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def stub_worker(stub_broker: PipelineBroker) -> Iterator[Worker]:
    yield from _worker(stub_broker)


@pytest.fixture
def redis_worker(redis_broker: PipelineBroker) -> Iterator[Worker]:
    yield from _worker(redis_broker)


@pytest.fixture
def redis_result_backend(redis_url: str) -> Iterator[RedisBackend]:
    namespace = _namespace()
    client = redis.Redis.from_url(redis_url)
    backend = RedisBackend(client=client, namespace=namespace)
    try:
        yield backend
    finally:
        _delete_namespace(client, namespace)
        client.close()


@pytest.fixture
def stub_result_backend() -> StubBackend:
    return StubBackend()


@pytest.fixture(params=["redis", "stub"])
def result_backend(request: pytest.FixtureRequest) -> object:
    return request.getfixturevalue(f"{request.param}_result_backend")


@pytest.fixture
def rate_limiter_backend() -> StubRateLimiterBackend:
    return StubRateLimiterBackend()


@pytest.fixture(autouse=True)
def _restore_encoder() -> Iterator[None]:
    encoder = dramatiq.get_encoder()
    yield
    dramatiq.set_encoder(encoder)
