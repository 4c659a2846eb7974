"""Process-wide wiring: the settings and the Redis client in use.

The broker and its middleware are put together in :mod:`pipeline.composition`.

Everything is built lazily on first use, never at import time.  Tests and the
CLI call :func:`configure` to point the process somewhere else.
"""

from __future__ import annotations

import threading

import redis

from pipeline.connection import make_client
from pipeline.scripts import Scripts
from pipeline.settings import Settings

_lock = threading.RLock()
_settings: Settings | None = None
_client: redis.Redis | None = None


def configure(settings: Settings | None = None) -> Settings:
    """Use ``settings`` (default: read the environment again) from now on in this process."""
    global _settings, _client
    with _lock:
        _settings = settings or Settings.from_env()
        _client = None
        return _settings


def get_settings() -> Settings:
    global _settings
    with _lock:
        if _settings is None:
            _settings = Settings.from_env()
        return _settings


def get_client() -> redis.Redis:
    global _client
    with _lock:
        if _client is None:
            _client = make_client(get_settings())
        return _client


def scripts_for(client: redis.Redis) -> Scripts:
    """The project's scripts registered on ``client`` (one registration per client)."""
    with _lock:
        scripts = getattr(client, "pipeline_scripts", None)
        if not isinstance(scripts, Scripts):
            scripts = Scripts(client)
            client.pipeline_scripts = scripts  # type: ignore[attr-defined]
        return scripts
