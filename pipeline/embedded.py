"""The embedded default: a private redis-server when no Redis is configured.

Used only when nothing was configured (no ``REDIS_URL``/``REDIS_HOST``/
``REDIS_PORT``): a Redis that merely answers on 127.0.0.1:6379 is someone
else's and is never borrowed.  The server binds to loopback on a free port and
stops with its owner.  Given a data directory (``pipeline up``) it keeps an
append-only file there, so jobs survive from one run to the next; a lock file
keeps two owners off the same files.  Without one (``pipeline demo``, tests)
it keeps nothing on disk.
"""

from __future__ import annotations

import atexit
import ctypes
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

import redis

from pipeline.connection import make_client, ping
from pipeline.errors import ConfigurationError, RedisUnavailableError
from pipeline.settings import Settings


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Child setup: its own session (a Ctrl-C reaches only the owner, which stops children in
    order) and, on Linux, SIGTERM when the owner dies, so a killed owner leaves nothing behind."""
    os.setsid()
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EmbeddedRedis:
    """A redis-server child process on a free loopback port.

    With ``data_dir`` it persists (``appendonly yes``, fsync every second) in that
    directory and holds ``<data_dir>/redis.lock`` while it runs.
    """

    def __init__(self, binary: str, *args: str, data_dir: Path | None = None) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self._lock: IO[str] | None = None
        self.persistent = data_dir is not None
        if data_dir is None:
            self.dir = tempfile.mkdtemp(prefix="pipeline-redis-")
            persistence = ["--save", "", "--appendonly", "no"]
        else:
            data_dir.mkdir(parents=True, exist_ok=True)
            self._lock = _take_lock(data_dir / "redis.lock")
            self.dir = str(data_dir)
            persistence = ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                *persistence,
                "--maxmemory-policy",
                "noeviction",
                "--dir",
                self.dir,
                *args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        atexit.register(self.stop)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        # Loading a large append-only file takes a while: wait for it, not a fixed time.
        deadline = time.monotonic() + 60
        while True:
            try:
                client.ping()
                break
            except (redis.ConnectionError, redis.BusyLoadingError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RedisUnavailableError(
                        f"127.0.0.1:{self.port}", "the embedded redis-server did not start"
                    ) from None
                time.sleep(0.05)
        client.close()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Stop the server; a persistent one flushes its append-only file first (SIGTERM)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        if not self.persistent:
            shutil.rmtree(self.dir, ignore_errors=True)


def _take_lock(path: Path) -> IO[str]:
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ConfigurationError(
            f"another process already runs the embedded Redis on {path.parent} "
            "(stop it first, or set PIPELINE_DATA_DIR to another directory)"
        ) from None
    return handle


def ensure_redis(settings: Settings, data_dir: Path | None = None) -> tuple[Settings, EmbeddedRedis | None]:
    """Settings pointing at a Redis that answers.

    A configured address must answer (else :class:`RedisUnavailableError`);
    with nothing configured a private server is started (persistent in
    ``data_dir`` when given) and returned, for the caller to stop.
    """
    if settings.redis_explicit or settings.redis_url:
        client = make_client(settings)
        try:
            ping(client)
        finally:
            client.close()
        return settings, None
    if not settings.embedded_redis:
        raise ConfigurationError(
            "no Redis is configured and PIPELINE_EMBEDDED_REDIS is off: set REDIS_URL "
            "(or REDIS_HOST and REDIS_PORT)"
        )
    binary = shutil.which("redis-server")
    if binary is None:
        raise ConfigurationError(
            "no Redis is configured and no redis-server binary is on PATH to start a private one: "
            "install Redis (e.g. 'apt-get install redis-server' or 'brew install redis') or set REDIS_URL"
        )
    server = EmbeddedRedis(binary, data_dir=data_dir)
    return settings.replace(redis_url=server.url, redis_explicit=True), server
