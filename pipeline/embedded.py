"""A private redis-server for the demo when no Redis is configured or running.

Used only when nothing was configured (no ``REDIS_URL``/``REDIS_HOST``/
``REDIS_PORT``) and nothing answers on 127.0.0.1:6379.  The server binds to
loopback on a free port, keeps nothing on disk, and stops with its owner.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time

import redis

from pipeline.errors import ConfigurationError, RedisUnavailableError
from pipeline.settings import Settings


class EmbeddedRedis:
    """A redis-server child process on a free loopback port."""

    def __init__(self, binary: str, *args: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.dir = tempfile.mkdtemp(prefix="pipeline-redis-")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
                *args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        atexit.register(self.stop)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RedisUnavailableError(
                        f"127.0.0.1:{self.port}", "embedded redis-server did not start"
                    ) from None
                time.sleep(0.05)
        client.close()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def ensure_redis(settings: Settings) -> tuple[Settings, EmbeddedRedis | None]:
    """Settings pointing at a Redis that answers, starting a private one if allowed and needed."""
    if settings.redis_mode != "single":  # a Sentinel set or a cluster is never started here
        from pipeline.connection import make_client, ping

        client = make_client(settings)
        try:
            ping(client)
        finally:
            client.close()
        return settings, None
    url = settings.resolved_redis_url()
    if settings.redis_explicit or _answers(url):
        if not _answers(url):
            from pipeline.connection import redis_address

            raise RedisUnavailableError(redis_address(url), "connection refused (is redis-server running?)")
        return settings, None
    if not settings.embedded_redis:
        raise RedisUnavailableError("127.0.0.1:6379", "nothing answers and PIPELINE_EMBEDDED_REDIS is off")
    binary = shutil.which("redis-server")
    if binary is None:
        raise ConfigurationError(
            "no Redis answers on 127.0.0.1:6379 and no redis-server binary is on PATH to start a "
            "private one: install Redis (e.g. 'apt-get install redis-server' or 'brew install redis') "
            "or set REDIS_URL"
        )
    server = EmbeddedRedis(binary)
    return settings.replace(redis_url=server.url, redis_explicit=True), server
