"""The embedded default: a private redis-server when none is configured, never a borrowed one."""

from __future__ import annotations

import shutil

import pytest
import redis

from pipeline.embedded import EmbeddedRedis, ensure_redis
from pipeline.errors import ConfigurationError, RedisUnavailableError
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


def test_a_redis_answering_on_the_default_address_is_never_borrowed(redis_url):
    # Given nothing configured, while a Redis answers on 127.0.0.1:6379 (the suite's own)
    settings, server = ensure_redis(Settings())
    assert server is not None
    try:
        assert settings.redis_url == server.url != "redis://127.0.0.1:6379/0"
    finally:
        server.stop()


def test_a_persistent_private_redis_keeps_jobs_from_one_run_to_the_next(tmp_path):
    from pipeline import Queue

    binary = shutil.which("redis-server")
    assert binary is not None
    first = EmbeddedRedis(binary, data_dir=tmp_path)
    try:
        job = Queue("kept", settings=Settings().replace(redis_url=first.url)).add("x", {"n": 1})
    finally:
        first.stop()
    second = EmbeddedRedis(binary, data_dir=tmp_path)
    try:
        again = Queue("kept", settings=Settings().replace(redis_url=second.url)).get_job(job.id)
        assert again is not None and again.data == {"n": 1}
        assert redis.Redis.from_url(second.url).config_get("maxmemory-policy") == {
            "maxmemory-policy": "noeviction"
        }
    finally:
        second.stop()


def test_two_owners_of_one_data_directory_are_refused(tmp_path):
    binary = shutil.which("redis-server")
    assert binary is not None
    first = EmbeddedRedis(binary, data_dir=tmp_path)
    try:
        with pytest.raises(ConfigurationError, match="already runs the embedded Redis"):
            EmbeddedRedis(binary, data_dir=tmp_path)
    finally:
        first.stop()
