"""Fixtures: a real Redis (the one on 127.0.0.1:6379, or a private one), random
queue names and namespaces per test, worker processes that clean up after
themselves.  Nothing here ever flushes Redis."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator

import dramatiq
import httpx
import pytest
import redis
import uvicorn

import pipeline.composition
from pipeline import wiring
from pipeline.api import create_app
from pipeline.api.auth import Credentials
from pipeline.broker import PipelineBroker
from pipeline.composition import default_middleware, set_broker
from pipeline.connection import make_client
from pipeline.embedded import EmbeddedRedis
from pipeline.queue import Queue
from pipeline.settings import Settings
from tests.support import WorkerProcess, free_port, redis_answers, unique, wait_for


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    if redis_answers(url):
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


@pytest.fixture
def namespace() -> str:
    return unique("ns")


@pytest.fixture
def settings(redis_url: str, namespace: str) -> Settings:
    return Settings.from_env().replace(redis_url=redis_url, namespace=namespace, redis_explicit=True)


@pytest.fixture
def client(settings: Settings) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(settings.redis_url)
    yield c
    c.close()


@pytest.fixture
def configured(settings: Settings) -> Iterator[Settings]:
    """Point this process's default Queue/broker wiring at the test's Redis and namespace."""
    wiring.configure(settings)
    yield settings
    wiring.configure(None)


@pytest.fixture
def queue_name() -> str:
    return unique("q")


@pytest.fixture
def make_queue(settings: Settings) -> Callable[..., Queue]:
    def make(name: str | None = None) -> Queue:
        return Queue(name or unique("q"), settings=settings)

    return make


@pytest.fixture
def broker(settings: Settings) -> Iterator[PipelineBroker]:
    """A fresh broker (installed as Dramatiq's global one) on the test's namespace.

    The global broker before it comes back afterwards: a module importing actors later
    (``pipeline.actors``) must not declare them on a closed broker whose Redis (a test's
    own cluster, say) is gone.
    """
    previous = pipeline.composition._broker
    b = PipelineBroker(settings=settings, middleware=default_middleware())
    set_broker(b)
    yield b
    b.close()
    if previous is not None:
        set_broker(previous)
    else:
        pipeline.composition._broker = None


@pytest.fixture
def worker(broker: PipelineBroker) -> Iterator[Callable[..., dramatiq.Worker]]:
    """Start in-process Dramatiq workers on the test broker; stopped at teardown."""
    started: list[dramatiq.Worker] = []

    def start(threads: int = 2, queues: set[str] | None = None) -> dramatiq.Worker:
        w = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100, queues=queues)
        w.start()
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop(timeout=10_000)


@pytest.fixture
def worker_process(settings: Settings) -> Iterator[Callable[..., WorkerProcess]]:
    """Start ``dramatiq <module>`` subprocesses on the test's Redis and namespace."""
    started: list[WorkerProcess] = []

    def start(
        module: str,
        queues: list[str] | None = None,
        processes: int = 1,
        threads: int = 2,
        env: dict[str, str] | None = None,
        wait: bool = True,
    ) -> WorkerProcess:
        full_env = {"REDIS_URL": settings.redis_url, "PIPELINE_NAMESPACE": settings.namespace, **(env or {})}
        proc = WorkerProcess(module, full_env, queues, processes, threads)
        started.append(proc)
        return proc.wait_ready() if wait else proc

    yield start
    for proc in started:
        proc.stop()


#: Bearer tokens of the test API, one per role (``api_credentials``).
API_TOKENS = {role: f"{role}-token-for-the-tests-0123456789" for role in ("viewer", "operator", "admin")}
#: Console users of the test API: name -> (role, password).
API_USERS = {
    "vera": ("viewer", "vera-password"),
    "otto": ("operator", "otto-password"),
    "ada": ("admin", "ada-password"),
}


@pytest.fixture(scope="session")
def api_credentials() -> Credentials:
    """A token and a console user for each role (argon2 hashing is slow: built once)."""
    return Credentials.of(
        tokens={f"{role}-bot": (role, token) for role, token in API_TOKENS.items()}, users=API_USERS
    )


@pytest.fixture
def api_server(configured: Settings, api_credentials: Credentials) -> Iterator[Callable[..., str]]:
    """Start the API on a free loopback port (``credentials`` default to ``api_credentials``);
    returns its base URL.  Servers stop at teardown."""
    started: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(credentials: Credentials | None = None) -> str:
        port = free_port()
        config = uvicorn.Config(
            create_app(api_credentials if credentials is None else credentials),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        started.append((server, thread))
        wait_for(lambda: server.started, 10, message="API server up")
        return f"http://127.0.0.1:{port}"

    yield start
    for server, _ in started:
        server.should_exit = True
    for _, thread in started:
        thread.join(10)
    client = make_client(configured)  # a cluster client scans every master
    for key in client.scan_iter(match=f"{configured.namespace}:*", count=1000):  # its own namespace only
        client.delete(key)
    client.close()


@pytest.fixture
def api(api_server: Callable[..., str]) -> Iterator[httpx.Client]:
    """A client of a running API, holding the admin role's bearer token."""
    headers = {"Authorization": f"Bearer {API_TOKENS['admin']}"}
    with httpx.Client(base_url=api_server(), headers=headers, timeout=10) as client:
        yield client
