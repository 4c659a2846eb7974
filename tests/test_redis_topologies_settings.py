"""Settings for a Sentinel set or a cluster: what is read, and what is refused before anything connects."""

from __future__ import annotations

import pytest

from pipeline.connection import describe, make_client
from pipeline.errors import ConfigurationError, InvalidJobError, RedisUnavailableError
from pipeline.queue import Queue
from pipeline.settings import Settings
from tests.support import free_port


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("REDIS_URL", "REDIS_SENTINELS", "REDIS_SENTINEL_MASTER", "REDIS_CLUSTER_NODES", "REDIS_DB"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_sentinels_and_their_master_name_are_read_from_the_environment(env):
    env.setenv("REDIS_SENTINELS", "10.0.0.1:26379, 10.0.0.2:26380,[::1]:26381")
    env.setenv("REDIS_SENTINEL_MASTER", "jobs")
    env.setenv("REDIS_SENTINEL_PASSWORD", "s3cret")
    settings = Settings.from_env()
    assert settings.redis_mode == "sentinel"
    assert settings.redis_sentinels == (("10.0.0.1", 26379), ("10.0.0.2", 26380), ("::1", 26381))
    assert settings.redis_sentinel_master == "jobs"
    assert settings.redis_explicit
    env_out = settings.redis_env()
    assert env_out["REDIS_SENTINELS"] == "10.0.0.1:26379,10.0.0.2:26380,[::1]:26381"
    assert "s3cret" not in describe(settings)


def test_cluster_startup_nodes_are_read_from_the_environment(env):
    env.setenv("REDIS_CLUSTER_NODES", "127.0.0.1:7000,127.0.0.1:7001")
    settings = Settings.from_env()
    assert settings.redis_mode == "cluster"
    assert settings.redis_cluster_nodes == (("127.0.0.1", 7000), ("127.0.0.1", 7001))
    assert settings.redis_env() == {
        "REDIS_PASSWORD": "",
        "REDIS_TLS": "0",
        "REDIS_CLUSTER_NODES": "127.0.0.1:7000,127.0.0.1:7001",
    }


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"REDIS_SENTINELS": "127.0.0.1"}, "REDIS_SENTINELS must be host:port"),
        ({"REDIS_SENTINELS": "127.0.0.1:26379"}, "REDIS_SENTINELS needs REDIS_SENTINEL_MASTER"),
        ({"REDIS_SENTINEL_MASTER": "jobs"}, "REDIS_SENTINELS is empty"),
        ({"REDIS_CLUSTER_NODES": "127.0.0.1:99999"}, "REDIS_CLUSTER_NODES must be host:port"),
        (
            {
                "REDIS_CLUSTER_NODES": "127.0.0.1:7000",
                "REDIS_SENTINELS": "127.0.0.1:1",
                "REDIS_SENTINEL_MASTER": "m",
            },
            "not both",
        ),
        ({"REDIS_CLUSTER_NODES": "127.0.0.1:7000", "REDIS_URL": "redis://x:1/0"}, "unset it"),
        ({"REDIS_CLUSTER_NODES": "127.0.0.1:7000", "REDIS_DB": "2"}, "REDIS_DB must be 0"),
    ],
)
def test_a_bad_topology_setting_is_refused_naming_the_variable(env, variables, named):
    for name, value in variables.items():
        env.setenv(name, value)
    with pytest.raises(ConfigurationError, match=named):
        Settings.from_env()


def test_an_unreachable_sentinel_set_fails_with_one_readable_error_naming_it():
    port = free_port()
    settings = Settings().replace(redis_sentinels=(("127.0.0.1", port),), redis_sentinel_master="jobs")
    with pytest.raises(RedisUnavailableError, match=f"Sentinel master 'jobs' via 127.0.0.1:{port}"):
        Queue("q", client=make_client(settings), settings=settings).get_job_counts()


@pytest.mark.parametrize("bad", [-1, True, "1", 1.5])
def test_wait_replicas_must_be_a_count(bad):
    settings = Settings()
    with pytest.raises(InvalidJobError, match="wait_replicas must be an int >= 0"):
        Queue("q", settings=settings, wait_replicas=bad)
