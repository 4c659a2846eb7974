"""Redis connections, and one readable error when Redis cannot be reached."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from pipeline.errors import ConfigurationError, RedisUnavailableError
from pipeline.settings import Settings

#: URL schemes redis-py connects with.
SCHEMES = ("redis", "rediss", "unix")

P = ParamSpec("P")
R = TypeVar("R")


def redis_address(url: str) -> str:
    """``host:port`` of a Redis URL, for messages (never the password)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"


def setting_name(settings: Settings) -> str:
    """Which setting the Redis address came from, for messages."""
    if settings.redis_url:
        return "REDIS_URL"
    if settings.redis_explicit:
        return "REDIS_HOST/REDIS_PORT"
    return "the default address"


def check_url(url: str, setting: str = "REDIS_URL") -> str:
    """``url`` if redis-py can connect with it; else :class:`ConfigurationError` naming ``setting``."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ConfigurationError(
            f"{setting} must start with redis://, rediss:// or unix://, got {_without_password(url)!r}"
        )
    try:
        parts.port  # noqa: B018 - reading it validates it
    except ValueError:
        raise ConfigurationError(f"{setting} has an invalid port: {_without_password(url)!r}") from None
    if parts.scheme != "unix" and not parts.hostname:
        raise ConfigurationError(f"{setting} names no host: {_without_password(url)!r}")
    return url


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def make_client(settings: Settings) -> redis.Redis:
    """A client for the configured Redis; it connects on first use."""
    setting = setting_name(settings)
    url = check_url(settings.resolved_redis_url(), setting)
    # A few quick retries hide a dropped connection; redis-py's default (ten, backing off for
    # seconds) would hold every call, and a worker's shutdown, for a minute while Redis is down.
    client = redis.Redis.from_url(
        url,
        socket_keepalive=True,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
    )
    client.pipeline_address = redis_address(url)  # type: ignore[attr-defined]
    client.pipeline_setting = setting  # type: ignore[attr-defined]
    return client


def setting_of(client: redis.Redis) -> str:
    setting = getattr(client, "pipeline_setting", "")
    return setting if isinstance(setting, str) else ""


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
        raise RedisUnavailableError(address_of(client), reason_of(exc), setting_of(client)) from None


def describe_error(exc: BaseException) -> str:
    """A connection error in one short line (no traceback)."""
    return reason_of(exc).rstrip(".")


def reason_of(exc: BaseException) -> str:
    """What went wrong connecting, in a few words (for :class:`RedisUnavailableError`)."""
    text = str(exc).strip() or type(exc).__name__
    if "Connection refused" in text:
        return "connection refused"
    if (
        "Name or service not known" in text
        or "nodename nor servname" in text
        or "Temporary failure in name" in text
    ):
        return "host name not found"
    if "Timeout" in text or isinstance(exc, redis.TimeoutError):
        return "timed out"
    return text.splitlines()[0]


def translate_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Turn redis-py connection errors of a ``client``-holding object into :class:`RedisUnavailableError`."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            client = getattr(args[0], "client", None) if args else None
            if isinstance(client, redis.Redis):
                raise RedisUnavailableError(address_of(client), reason_of(exc), setting_of(client)) from None
            raise RedisUnavailableError("the configured address", reason_of(exc)) from None

    return wrapper
