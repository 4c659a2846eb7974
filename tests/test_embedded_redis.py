"""The demo's embedded default: a private redis-server when none is configured or running."""

from __future__ import annotations

import pytest
import redis

from pipeline.embedded import ensure_redis
from pipeline.errors import RedisUnavailableError
from pipeline.settings import Settings
from tests.support import free_port


def test_nothing_configured_and_nothing_running_starts_a_private_redis():
    silent = Settings().replace(redis_port=free_port())
    settings, server = ensure_redis(silent)
    assert server is not None
    try:
        assert settings.redis_url == server.url
        assert redis.Redis.from_url(settings.redis_url).ping()
    finally:
        server.stop()


def test_an_explicit_address_that_does_not_answer_is_an_error_not_a_private_server():
    port = free_port()
    with pytest.raises(RedisUnavailableError, match=f"127.0.0.1:{port}"):
        ensure_redis(Settings().replace(redis_port=port, redis_explicit=True))
