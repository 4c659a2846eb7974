"""Helpers shared by the tests: Redis discovery, deadlines, worker processes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import redis

from pipeline.clock import now_ms

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def wait_for(
    predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.02, message: str = ""
) -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s: {message or predicate}")
        time.sleep(interval)


class SkewedClock:
    """A local clock ``offset_ms`` away from the system's: the clock of a host that is wrong.

    Pass it as a component's ``clock`` and change ``offset_ms`` to move that host's clock.
    """

    def __init__(self, offset_ms: int = 0) -> None:
        self.offset_ms = offset_ms

    def __call__(self) -> int:
        return now_ms() + self.offset_ms


def local_ports(pid: int) -> set[int]:
    """Local ports of the TCP sockets process ``pid`` holds (to find its connections in CLIENT LIST)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/net/{table}") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


class LoggedProcess:
    """A project process in its own session, its output kept for failure messages."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.output: list[str] = []
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace")
            self.output.append(line)
            self.on_line(line)

    def on_line(self, line: str) -> None:
        """Called for each line of output (subclasses watch for readiness)."""

    def log(self) -> str:
        return "".join(self.output)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.kill(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                self.proc.wait(10)


class WorkerProcess(LoggedProcess):
    """``dramatiq <module>`` in a subprocess."""

    def __init__(
        self, module: str, env: dict[str, str], queues: list[str] | None, processes: int, threads: int
    ) -> None:
        self.module = module
        self.ready = threading.Event()
        self.expected_ready = processes
        self._ready_count = 0
        cmd = [
            sys.executable,
            "-m",
            "dramatiq",
            module,
            "--processes",
            str(processes),
            "--threads",
            str(threads),
            "--worker-shutdown-timeout",
            "5000",
        ]
        if queues:
            cmd += ["--queues", *queues]
        super().__init__(cmd, env)

    def on_line(self, line: str) -> None:
        if "is ready for action" in line:
            self._ready_count += 1
            if self._ready_count >= self.expected_ready:
                self.ready.set()

    def wait_ready(self, timeout: float = 30) -> WorkerProcess:
        if not self.ready.wait(timeout):
            raise AssertionError("worker did not start:\n" + "".join(self.output[-50:]))
        return self

    def child_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]


def run_python(code: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a snippet in a fresh interpreter (another 'process' of the system)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_isolated(
    argv: list[str], env: dict[str, str], unset: tuple[str, ...] = ("REDIS_",)
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` from the project root with ``env``, after dropping the caller's variables
    that start with any of ``unset`` (so only the test's own settings apply)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    return subprocess.run(
        argv,
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def any_of(*values: Any) -> Any:
    return next((v for v in values if v), None)


class RedisServer:
    """A private redis-server on a free loopback port that a test may stop and start again
    (same port, same data directory), for fault tests; ``aof`` keeps every write on disk."""

    def __init__(self, *, aof: bool = False) -> None:
        import shutil
        import tempfile

        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("redis-server is not on PATH")
        self.binary = binary
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="pipeline-fault-redis-")
        self.aof = aof
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else ["--appendonly", "no"]
        )
        where = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", self.dir]
        self.proc = subprocess.Popen(
            [self.binary, *where, *persistence],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: redis_answers(self.url), 10, message="private redis-server up")

    def stop(self) -> None:
        """A clean shutdown (SIGTERM): with AOF on, every acknowledged write survives."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def close(self) -> None:
        import shutil

        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
