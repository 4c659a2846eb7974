"""Redis connections, and one readable error when Redis cannot be reached."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from pipeline.errors import RedisUnavailableError
from pipeline.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")


def redis_address(url: str) -> str:
    """``host:port`` of a Redis URL, for messages (never the password)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"


def make_client(settings: Settings) -> redis.Redis:
    """A client for the configured Redis; it connects on first use."""
    url = settings.resolved_redis_url()
    # A few quick retries hide a dropped connection; redis-py's default (ten, backing off for
    # seconds) would hold every call, and a worker's shutdown, for a minute while Redis is down.
    client = redis.Redis.from_url(
        url,
        socket_keepalive=True,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
    )
    client.pipeline_address = redis_address(url)  # type: ignore[attr-defined]
    return client


def address_of(client: redis.Redis) -> str:
    address = getattr(client, "pipeline_address", None)
    if isinstance(address, str):
        return address
    kwargs = client.connection_pool.connection_kwargs
    return f"{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}"


def ping(client: redis.Redis) -> None:
    """Check that Redis answers; raise :class:`RedisUnavailableError` naming the address if not."""
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise RedisUnavailableError(address_of(client), _reason(exc)) from None


def describe_error(exc: BaseException) -> str:
    """A connection error in one short line (no traceback)."""
    return _reason(exc).rstrip(".")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if "Connection refused" in text:
        return "connection refused (is redis-server running?)"
    return text.splitlines()[0]


def translate_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Turn redis-py connection errors of a ``client``-holding object into :class:`RedisUnavailableError`."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            client = getattr(args[0], "client", None) if args else None
            address = address_of(client) if isinstance(client, redis.Redis) else "the configured address"
            raise RedisUnavailableError(address, _reason(exc)) from None

    return wrapper
