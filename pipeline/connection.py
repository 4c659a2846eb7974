"""Redis connections, and one readable error when Redis cannot be reached."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode as AsyncClusterNode
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.backoff import ExponentialBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import (
    AskError,
    ClusterError,
    ReadOnlyError,
    RedisClusterException,
    RedisClusterUnreachableError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool

from pipeline.errors import ConfigurationError, RedisUnavailableError
from pipeline.settings import Settings, format_addresses

#: URL schemes redis-py connects with.
SCHEMES = ("redis", "rediss", "unix")

#: Errors of a Redis out of reach for now: a lost connection, a failover (the old master read-only,
#: a slot without a master) or a resharding the client could not follow within its retries.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    ReadOnlyError,
    ClusterError,
    AskError,
    TryAgainError,
    SlotNotCoveredError,
    RedisClusterUnreachableError,
)
PING_ERRORS: tuple[type[Exception], ...] = (*UNAVAILABLE_ERRORS, OSError)
#: How a cluster client's slot-map refresh says it found no node, or a slot without a master:
#: a plain ``RedisClusterException``, the class it also raises for misuse, told apart by its text.
TOPOLOGY_OUTAGES = (
    "All slots are not covered",
    "Redis Cluster cannot be connected",
    "startup_nodes could not agree",
)


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means Redis is out of reach for now (an outage, a failover), not a bug."""
    if isinstance(exc, UNAVAILABLE_ERRORS):
        return True
    return type(exc) is RedisClusterException and str(exc).startswith(TOPOLOGY_OUTAGES)


#: Every error a Redis command may raise (the cluster client's own are no ``RedisError``).
REDIS_ERRORS: tuple[type[Exception], ...] = (redis.RedisError, RedisClusterException)

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
    if settings.redis_mode == "cluster":
        return "REDIS_CLUSTER_NODES"
    if settings.redis_mode == "sentinel":
        return "REDIS_SENTINELS"
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
    """A client for the configured Redis (one node, a Sentinel set or a cluster); it connects on first use.

    A cluster client speaks the same commands as a single node's, so it is handed out
    as a ``redis.Redis``: every key of one queue lives in one slot, and the few places
    that need a node's own connection ask :func:`node_pool`.
    """
    if settings.redis_mode == "cluster":
        client = _cluster_client(settings)
    elif settings.redis_mode == "sentinel":
        client = _sentinel_client(settings)
    else:
        url = check_url(settings.resolved_redis_url(), setting_name(settings))
        # A few quick retries hide a dropped connection; redis-py's default (ten, backing off for
        # seconds) would hold every call, and a worker's shutdown, for a minute while Redis is down.
        client = redis.Redis.from_url(
            url,
            socket_keepalive=True,
            health_check_interval=30,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), settings.redis_retries),
        )
    client.pipeline_address = describe(settings)  # type: ignore[attr-defined]
    client.pipeline_setting = setting_name(settings)  # type: ignore[attr-defined]
    return client


def setting_of(client: redis.Redis) -> str:
    setting = getattr(client, "pipeline_setting", "")
    return setting if isinstance(setting, str) else ""


def describe(settings: Settings) -> str:
    """Where these settings point, for messages (never a password)."""
    if settings.redis_mode == "cluster":
        return f"cluster {format_addresses(settings.redis_cluster_nodes)}"
    if settings.redis_mode == "sentinel":
        sentinels = format_addresses(settings.redis_sentinels)
        return f"Sentinel master {settings.redis_sentinel_master!r} via {sentinels}"
    return redis_address(settings.resolved_redis_url())


#: How a Sentinel-managed client rides out a failover: a command that finds the master gone
#: asks the Sentinels again and retries for about 3 s before the error reaches the caller.
FAILOVER_RETRY = Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=9)


def _sentinel_client(settings: Settings) -> redis.Redis:
    tls: dict[str, Any] = {"ssl": True} if settings.redis_tls else {}
    sentinel_kwargs: dict[str, Any] = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0, **tls}
    if settings.redis_sentinel_password:
        sentinel_kwargs["password"] = settings.redis_sentinel_password
    sentinel = Sentinel(list(settings.redis_sentinels), sentinel_kwargs=sentinel_kwargs)
    master_kwargs: dict[str, Any] = {
        "password": settings.redis_password or None,
        "db": settings.redis_db,
        "socket_keepalive": True,
        "health_check_interval": 30,
        "retry": FAILOVER_RETRY,
        "retry_on_error": [redis.ConnectionError, redis.TimeoutError],
        **tls,
    }
    return cast(redis.Redis, sentinel.master_for(settings.redis_sentinel_master, **master_kwargs))


def _cluster_client(settings: Settings) -> redis.Redis:
    try:
        cluster = RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in settings.redis_cluster_nodes],
            password=settings.redis_password or None,
            ssl=settings.redis_tls,
            socket_keepalive=True,
            # The cluster client retries a command after MOVED, ASK or a lost node, refreshing its
            # slot map in between; this spreads the retries over a replica's promotion.
            retry=FAILOVER_RETRY,
        )
    except RedisClusterException as exc:
        # Unlike a single node's, the cluster client asks for the slot map when it is made: no
        # node answering, or a slot without a master, is an outage, not a bug.
        raise RedisUnavailableError(describe(settings), reason_of(exc), setting_name(settings)) from None
    return cast(redis.Redis, cluster)


def make_async_client(settings: Settings) -> aioredis.Redis | AsyncRedisCluster:
    """An asyncio client for the same Redis as :func:`make_client` (for the API's live feed)."""
    if settings.redis_mode == "cluster":
        return AsyncRedisCluster(
            startup_nodes=[AsyncClusterNode(host, port) for host, port in settings.redis_cluster_nodes],
            password=settings.redis_password or None,
            ssl=settings.redis_tls,
        )
    if settings.redis_mode == "sentinel":
        tls: dict[str, Any] = {"ssl": True} if settings.redis_tls else {}
        sentinel_kwargs: dict[str, Any] = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0, **tls}
        if settings.redis_sentinel_password:
            sentinel_kwargs["password"] = settings.redis_sentinel_password
        sentinel = AsyncSentinel(list(settings.redis_sentinels), sentinel_kwargs=sentinel_kwargs)
        master = sentinel.master_for(
            settings.redis_sentinel_master,
            password=settings.redis_password or None,
            db=settings.redis_db,
            **tls,
        )
        return cast(aioredis.Redis, master)
    return aioredis.Redis.from_url(check_url(settings.resolved_redis_url(), setting_name(settings)))


def is_cluster(client: object) -> bool:
    return isinstance(client, RedisCluster | AsyncRedisCluster)


def follows_failovers(client: redis.Redis) -> bool:
    """Whether ``client`` may find itself on another server mid-call (a Sentinel set or a cluster).

    Such a client must not send scripts in a pipeline: redis-py loads them before the
    pipeline runs, and a retry on the new master would find them missing.
    """
    return isinstance(client, RedisCluster) or isinstance(client.connection_pool, SentinelConnectionPool)


def node_pool(client: redis.Redis, key: str) -> redis.ConnectionPool:
    """The connection pool of the server that holds ``key`` (as the client last knew it)."""
    if isinstance(client, RedisCluster):
        node = client.get_node_from_key(key)
        return cast(redis.Redis, node.redis_connection).connection_pool
    return client.connection_pool


def node_client(client: redis.Redis, key: str) -> redis.Redis:
    """A client of the one server that holds ``key``: for commands that must share a connection
    with the write before them (``WAIT``), which a cluster client would send anywhere."""
    if isinstance(client, RedisCluster):
        return cast(redis.Redis, client.get_node_from_key(key).redis_connection)
    return client


def refresh_topology(client: redis.Redis) -> None:
    """After ``MOVED``/``ASK`` or a lost node seen outside the cluster client: learn the slot map again."""
    if isinstance(client, RedisCluster):
        # Best effort: a node that cannot be asked now is asked again at the next command.
        with contextlib.suppress(*REDIS_ERRORS):
            client.nodes_manager.initialize()


def address_of(client: redis.Redis) -> str:
    address = getattr(client, "pipeline_address", None)
    if isinstance(address, str):
        return address
    if isinstance(client, RedisCluster):
        return "cluster " + ",".join(node.name for node in client.get_nodes())
    kwargs = client.connection_pool.connection_kwargs
    return f"{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}"


def ping(client: redis.Redis) -> None:
    """Check that Redis answers; raise :class:`RedisUnavailableError` naming the address if not."""
    try:
        client.ping()
    except PING_ERRORS as exc:
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
        except UNAVAILABLE_ERRORS as exc:
            client = getattr(args[0], "client", None) if args else None
            if isinstance(client, redis.Redis | RedisCluster):
                known = cast(redis.Redis, client)
                raise RedisUnavailableError(address_of(known), reason_of(exc), setting_of(known)) from None
            raise RedisUnavailableError("the configured address", reason_of(exc)) from None

    return wrapper
