"""Every setting of the core, read from the environment in one place.

A plugin's own settings live with the plugin (the domain's in ``actors.settings``)
and are read with the same helpers (:func:`env_int`, :func:`env_bool`,
:func:`env_str`, :func:`env_list`), so a bad value is the same one line.

Redis: ``REDIS_URL`` wins when set (``redis://`` or ``rediss://`` for TLS);
otherwise ``REDIS_HOST`` / ``REDIS_PORT`` / ``REDIS_PASSWORD`` / ``REDIS_DB``
(``REDIS_TLS=1`` for TLS), as in Bull's ``forRoot({redis: {...}})``.
``REDIS_SENTINELS`` (with ``REDIS_SENTINEL_MASTER``) or ``REDIS_CLUSTER_NODES``
replace the single address with a Sentinel set or a Redis Cluster; password
and TLS apply to them as to a single node.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import quote

from pipeline.errors import ConfigurationError


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}, got {value}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_list(name: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped."""
    return tuple(item.strip() for item in env_str(name).split(",") if item.strip())


def parse_addresses(name: str, raw: str) -> tuple[tuple[str, int], ...]:
    """``host:port,host:port`` (IPv6 hosts in brackets) as (host, port) pairs; ``name`` is the setting."""
    out = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigurationError(f"{name} must be host:port[,host:port...], got {item!r} in {raw!r}")
        out.append((host, int(port)))
    return tuple(out)


@dataclass(frozen=True)
class Settings:
    """The whole configuration.  Build it with :meth:`from_env`.

    Attributes:
        redis_url: explicit Redis URL (``REDIS_URL``); empty means "build from host/port".
        redis_host, redis_port, redis_password, redis_db, redis_tls: the parts.
        redis_sentinels: Sentinel addresses (``REDIS_SENTINELS``, ``host:port,...``); when set,
            the client follows the master named ``redis_sentinel_master``
            (``REDIS_SENTINEL_MASTER``) through failovers.  ``redis_sentinel_password``
            (``REDIS_SENTINEL_PASSWORD``) is the Sentinels' own password, if they have one;
            ``redis_password``, ``redis_db`` and ``redis_tls`` apply to the master.
        redis_cluster_nodes: startup nodes of a Redis Cluster (``REDIS_CLUSTER_NODES``,
            ``host:port,...``); the client learns the rest of the cluster from them.
        redis_retries: how often a single Redis node's client retries a command whose
            connection failed, backing off 0.1 s, 0.2 s, 0.4 s, then 0.5 s (``PIPELINE_REDIS_RETRIES``,
            default 3): enough to hide a dropped connection, short enough not to hold a call
            for long while Redis is down.
        wait_replicas: replicas every ``add()`` waits for by default (``PIPELINE_WAIT_REPLICAS``,
            default 0: return once the master has the job); ``Queue(wait_replicas=)`` and
            ``add(wait_replicas=)`` override it.
        wait_timeout_ms: how long such an ``add()`` waits for them (``PIPELINE_WAIT_TIMEOUT_MS``).
        namespace: prefix of every Redis key the project writes (``PIPELINE_NAMESPACE``).
        embedded_redis: start a private redis-server when none is configured
            (``PIPELINE_EMBEDDED_REDIS``, default on); a Redis that merely answers on
            localhost is never borrowed.
        data_dir: where ``pipeline up`` keeps the embedded Redis's append-only file
            (``PIPELINE_DATA_DIR``, default ``var``).
        metrics_port: where the ``dramatiq`` command serves Prometheus metrics
            (``PIPELINE_METRICS_PORT``; 0, the default, serves none).
        metrics_host: the address it binds (``PIPELINE_METRICS_HOST``, default loopback).
        alert_interval_ms: how often the alert rules are evaluated (``PIPELINE_ALERT_INTERVAL_MS``).
        alert_emails: who alert emails go to (``PIPELINE_ALERT_EMAILS``, comma-separated).
        alert_webhook_url: where alert webhooks are POSTed (``PIPELINE_ALERT_WEBHOOK_URL``).
        alert_webhook_secret: the HMAC key signing them (``PIPELINE_ALERT_WEBHOOK_SECRET``).
        max_data_bytes: largest encoded job accepted by ``add()`` (``PIPELINE_MAX_DATA_BYTES``).
        prefetch: jobs a worker process reserves per queue beyond its threads
            (``PIPELINE_PREFETCH``, default 1): small, so priorities hold globally.
        lock_duration_ms: how long a running job's lock lasts without renewal.
        stalled_interval_ms: how often workers look for expired locks.
        max_stalled_count: stalls a job survives before it fails.
        events_max_len: approximate cap of each queue's event stream.
        worker_heartbeat_ms: how often workers refresh their entry in ``get_workers()``.
        cancel_grace_ms: how long a cancelled running job may go on before its worker interrupts it.
        actor_modules: modules ``dramatiq pipeline.actors`` imports besides those of the installed
            plugins' ``pipeline.actors`` entry points (``PIPELINE_ACTOR_MODULES``, comma-separated).
        api_tokens: bearer tokens of the API (``PIPELINE_API_TOKENS``): entries
            ``name:role:token`` separated by whitespace or ``;``.
        api_users: people who log in on the console (``PIPELINE_API_USERS``): entries
            ``name:role:argon2-hash`` separated by whitespace or ``;`` (``pipeline hash-password``).
        api_credentials_file: a TOML file with ``[[tokens]]`` and ``[[users]]`` tables
            (``PIPELINE_API_CREDENTIALS_FILE``); read in addition to the two above.
        api_secret: key that signs console session cookies (``PIPELINE_API_SECRET``); empty:
            a random key per process, so sessions end when the API restarts.
        api_session_ttl_s: how long a console login lasts (``PIPELINE_API_SESSION_TTL_S``).
        api_audit_max_len: approximate cap of the audit stream (``PIPELINE_API_AUDIT_MAX_LEN``).
        api_page_size_max: largest page of jobs one request may ask for (``PIPELINE_API_PAGE_SIZE_MAX``).
    """

    redis_url: str = ""
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_password: str = ""
    redis_db: int = 0
    redis_tls: bool = False
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_sentinel_master: str = ""
    redis_sentinel_password: str = ""
    redis_cluster_nodes: tuple[tuple[str, int], ...] = ()
    redis_retries: int = 3
    wait_replicas: int = 0
    wait_timeout_ms: int = 1_000
    namespace: str = "pl"
    embedded_redis: bool = True
    data_dir: str = "var"
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    alert_interval_ms: int = 30_000
    alert_emails: tuple[str, ...] = ()
    alert_webhook_url: str = ""
    alert_webhook_secret: str = field(default="", repr=False)
    max_data_bytes: int = 512 * 1024
    prefetch: int = 1
    lock_duration_ms: int = 30_000
    stalled_interval_ms: int = 30_000
    max_stalled_count: int = 1
    events_max_len: int = 10_000
    cancel_grace_ms: int = 2_000
    worker_heartbeat_ms: int = 5_000
    actor_modules: tuple[str, ...] = ()
    api_tokens: str = field(default="", repr=False)
    api_users: str = field(default="", repr=False)
    api_credentials_file: str = ""
    api_secret: str = field(default="", repr=False)
    api_session_ttl_s: int = 12 * 3600
    api_audit_max_len: int = 10_000
    api_page_size_max: int = 500
    redis_explicit: bool = field(default=False, compare=False)

    @classmethod
    def from_env(cls) -> Settings:
        explicit = any(
            os.environ.get(n)
            for n in ("REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_SENTINELS", "REDIS_CLUSTER_NODES")
        )
        sentinels = parse_addresses("REDIS_SENTINELS", env_str("REDIS_SENTINELS"))
        cluster_nodes = parse_addresses("REDIS_CLUSTER_NODES", env_str("REDIS_CLUSTER_NODES"))
        master = env_str("REDIS_SENTINEL_MASTER").strip()
        if sentinels and cluster_nodes:
            raise ConfigurationError("set REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both")
        if sentinels and not master:
            raise ConfigurationError("REDIS_SENTINELS needs REDIS_SENTINEL_MASTER (the master's name)")
        if master and not sentinels:
            raise ConfigurationError("REDIS_SENTINEL_MASTER is set but REDIS_SENTINELS is empty")
        if (sentinels or cluster_nodes) and env_str("REDIS_URL"):
            raise ConfigurationError(
                "REDIS_URL names a single node: unset it when REDIS_SENTINELS or REDIS_CLUSTER_NODES is set"
            )
        if cluster_nodes and env_int("REDIS_DB", 0):
            raise ConfigurationError(
                "REDIS_DB must be 0 with REDIS_CLUSTER_NODES (a cluster has one database)"
            )
        return cls(
            redis_url=env_str("REDIS_URL"),
            redis_host=env_str("REDIS_HOST", "127.0.0.1"),
            redis_port=env_int("REDIS_PORT", 6379, minimum=1),
            redis_password=env_str("REDIS_PASSWORD"),
            redis_db=env_int("REDIS_DB", 0),
            redis_tls=env_bool("REDIS_TLS", False),
            redis_sentinels=sentinels,
            redis_sentinel_master=master,
            redis_sentinel_password=env_str("REDIS_SENTINEL_PASSWORD"),
            redis_cluster_nodes=cluster_nodes,
            redis_retries=env_int("PIPELINE_REDIS_RETRIES", 3),
            wait_replicas=env_int("PIPELINE_WAIT_REPLICAS", 0),
            wait_timeout_ms=env_int("PIPELINE_WAIT_TIMEOUT_MS", 1_000, minimum=1),
            namespace=env_str("PIPELINE_NAMESPACE", "pl") or "pl",
            embedded_redis=env_bool("PIPELINE_EMBEDDED_REDIS", True),
            data_dir=env_str("PIPELINE_DATA_DIR", "var") or "var",
            metrics_port=env_int("PIPELINE_METRICS_PORT", 0),
            metrics_host=env_str("PIPELINE_METRICS_HOST", "127.0.0.1") or "127.0.0.1",
            alert_interval_ms=env_int("PIPELINE_ALERT_INTERVAL_MS", 30_000, minimum=100),
            alert_emails=env_list("PIPELINE_ALERT_EMAILS"),
            alert_webhook_url=env_str("PIPELINE_ALERT_WEBHOOK_URL"),
            alert_webhook_secret=env_str("PIPELINE_ALERT_WEBHOOK_SECRET"),
            max_data_bytes=env_int("PIPELINE_MAX_DATA_BYTES", 512 * 1024, minimum=1),
            prefetch=env_int("PIPELINE_PREFETCH", 1),
            lock_duration_ms=env_int("PIPELINE_LOCK_DURATION_MS", 30_000, minimum=100),
            stalled_interval_ms=env_int("PIPELINE_STALLED_INTERVAL_MS", 30_000, minimum=50),
            max_stalled_count=env_int("PIPELINE_MAX_STALLED_COUNT", 1),
            events_max_len=env_int("PIPELINE_EVENTS_MAX_LEN", 10_000, minimum=1),
            cancel_grace_ms=env_int("PIPELINE_CANCEL_GRACE_MS", 2_000),
            worker_heartbeat_ms=env_int("PIPELINE_WORKER_HEARTBEAT_MS", 5_000, minimum=100),
            actor_modules=env_list("PIPELINE_ACTOR_MODULES"),
            api_tokens=env_str("PIPELINE_API_TOKENS"),
            api_users=env_str("PIPELINE_API_USERS"),
            api_credentials_file=env_str("PIPELINE_API_CREDENTIALS_FILE"),
            api_secret=env_str("PIPELINE_API_SECRET"),
            api_session_ttl_s=env_int("PIPELINE_API_SESSION_TTL_S", 12 * 3600, minimum=60),
            api_audit_max_len=env_int("PIPELINE_API_AUDIT_MAX_LEN", 10_000, minimum=1),
            api_page_size_max=env_int("PIPELINE_API_PAGE_SIZE_MAX", 500, minimum=1),
            redis_explicit=explicit,
        )

    @property
    def redis_mode(self) -> str:
        """``"cluster"``, ``"sentinel"`` or ``"single"``: which kind of Redis these settings point at."""
        if self.redis_cluster_nodes:
            return "cluster"
        if self.redis_sentinels:
            return "sentinel"
        return "single"

    def redis_env(self) -> dict[str, str]:
        """The environment variables that point another process at the same Redis."""
        if self.redis_mode == "single":
            return {"REDIS_URL": self.resolved_redis_url()}
        env = {"REDIS_PASSWORD": self.redis_password, "REDIS_TLS": "1" if self.redis_tls else "0"}
        if self.redis_cluster_nodes:
            env["REDIS_CLUSTER_NODES"] = format_addresses(self.redis_cluster_nodes)
        else:
            env["REDIS_SENTINELS"] = format_addresses(self.redis_sentinels)
            env["REDIS_SENTINEL_MASTER"] = self.redis_sentinel_master
            env["REDIS_SENTINEL_PASSWORD"] = self.redis_sentinel_password
            env["REDIS_DB"] = str(self.redis_db)
        return env

    def resolved_redis_url(self) -> str:
        """The Redis URL these settings point at (``REDIS_URL`` or built from the parts)."""
        if self.redis_url:
            return self.redis_url
        scheme = "rediss" if self.redis_tls else "redis"
        auth = f":{quote(self.redis_password, safe='')}@" if self.redis_password else ""
        return f"{scheme}://{auth}{self.redis_host}:{self.redis_port}/{self.redis_db}"

    def replace(self, **changes: Any) -> Settings:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ConfigurationError(f"unknown settings: {sorted(unknown)}")
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


def format_addresses(addresses: tuple[tuple[str, int], ...]) -> str:
    """(host, port) pairs back in the ``host:port,...`` form the settings read."""
    return ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in addresses)
