"""``pipeline up``: the whole system as one process tree.

A private Redis (persistent under the data directory, unless ``REDIS_URL`` or
the parts name one), a Dramatiq worker for the domain actors, the repeat
scheduler (which also evaluates alerts) and the API with the dashboard.  The
children run in their own session so a Ctrl-C reaches only this supervisor,
which then stops them in order: API and scheduler first, then the worker (which
finishes or puts back the jobs it holds), Redis last (flushing its append-only
file).  If any child dies, the others are stopped too.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast
from urllib.parse import urlsplit

from pipeline import plugins
from pipeline.connection import REDIS_ERRORS, describe, make_client
from pipeline.embedded import EmbeddedRedis, die_with_parent, ensure_redis
from pipeline.errors import ConfigurationError
from pipeline.keys import QueueKeys, queues_set
from pipeline.settings import Settings

#: Modules the worker of ``pipeline up`` loads: the installed plugins' actors, and the demo queue's.
WORKER_MODULES = ["pipeline.actors", "pipeline.demo"]


@dataclass
class Child:
    """One process of the tree."""

    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    stop_timeout_s: float = 15.0

    def start(self, env: dict[str, str], log_dir: Path | None) -> None:
        """Start it; its output goes to ``<log_dir>/<name>.log`` (appended), or to ours when None."""
        output: IO[bytes] | None = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            output = (log_dir / f"{self.name}.log").open("ab")
        try:
            self.proc = subprocess.Popen(
                self.argv,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT if output is not None else None,
                stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )
        finally:
            if output is not None:
                output.close()  # the child holds its own copy

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(self.stop_timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@dataclass
class Options:
    """What ``pipeline up`` was asked for."""

    host: str = "127.0.0.1"
    port: int = 8080
    processes: int = 1
    threads: int = 4
    demo: bool = False
    verbose: bool = False
    data_dir: Path | None = None
    announce: Callable[[str], None] = field(default=print)


def build_children(options: Options) -> list[Child]:
    python = sys.executable
    return [
        Child(
            "worker",
            [
                python,
                "-m",
                "dramatiq",
                *WORKER_MODULES,
                "--processes",
                str(options.processes),
                "--threads",
                str(options.threads),
                # Past this, a running job stays active in Redis and comes back by stall recovery.
                "--worker-shutdown-timeout",
                "10000",
            ],
            stop_timeout_s=30.0,
        ),
        Child("scheduler", [python, "-m", "pipeline.cli", "scheduler"]),
        Child(
            "api",
            [python, "-m", "pipeline.cli", "api", "--host", options.host, "--port", str(options.port)],
        ),
    ]


def run(options: Options, stop: threading.Event | None = None) -> int:
    """Bring the system up and keep it up until SIGINT/SIGTERM (or ``stop``); 0 on a clean stop."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    check_port_free(options.host, options.port)
    settings = Settings.from_env()
    # The plugins' settings too, so a bad value is one line now rather than a worker that exits.
    plugins.check_settings()
    data_dir = options.data_dir or Path(settings.data_dir)
    settings, server = ensure_redis(settings, data_dir=data_dir / "redis")
    say = options.announce
    if server is not None:
        say(f"Redis: private redis-server on {server.url}, data kept in {data_dir / 'redis'}/")
    else:
        where = (
            _safe(settings.resolved_redis_url()) if settings.redis_mode == "single" else describe(settings)
        )
        say(f"Redis: {where} (from the environment)")
    login_env, hint = first_login(data_dir)
    env = {
        **os.environ,
        **login_env,
        **settings.redis_env(),
        "PIPELINE_NAMESPACE": settings.namespace,
        "PYTHONUNBUFFERED": "1",
    }
    children = build_children(options)
    try:
        log_dir = None if options.verbose else data_dir / "logs"
        for child in children:
            child.start(env, log_dir)
        url = f"http://{_url_host(options.host)}:{options.port}/"
        if not (
            _wait_until_ready(url + "health", children, stop) and _wait_for_worker(settings, children, stop)
        ):
            _report_dead(children, log_dir, say)
            return _shutdown(children, server, say, failed=not stop.is_set())
        if options.demo:
            from pipeline.up_demo import seed  # deferred: importing it declares the demo actors

            say(seed(settings))
        say(f"Dashboard: {url}   API docs: {url}docs   metrics: {url}metrics")
        say(hint)
        if not options.verbose:
            say(f"Logs: {data_dir / 'logs'}/ (worker.log, scheduler.log, api.log; --verbose shows them here)")
        say("Press Ctrl-C to stop everything.")
        while not stop.wait(0.5):
            if not all(c.alive() for c in children):
                _report_dead(children, log_dir, say)
                return _shutdown(children, server, say, failed=True)
        return _shutdown(children, server, say, failed=False)
    except BaseException:
        _shutdown(children, server, say, failed=True)
        raise


#: Settings that configure the API's credentials; with any of them set, ``up`` adds none.
CREDENTIAL_SETTINGS = ("PIPELINE_API_TOKENS", "PIPELINE_API_USERS", "PIPELINE_API_CREDENTIALS_FILE")


def first_login(data_dir: Path) -> tuple[dict[str, str], str]:
    """The API's credentials for ``up``, and the line telling the user how to log in.

    With credentials configured, those are used.  Otherwise the first run makes an
    ``admin`` user with a random password, keeps only its argon2 hash in
    ``<data_dir>/api-credentials.toml`` (readable by its owner only) and shows the
    password once; later runs reuse the file.  Deleting it makes a new password.
    """
    configured = [name for name in CREDENTIAL_SETTINGS if os.environ.get(name)]
    if configured:
        return {}, f"Login: the credentials of {', '.join(configured)}."
    from pipeline.api.auth import hash_password  # deferred: loads the API package (CLI startup)

    path = (data_dir / "api-credentials.toml").resolve()
    env = {"PIPELINE_API_CREDENTIALS_FILE": str(path)}
    if path.exists():
        return env, (
            f"Login: admin (password shown by the first run; delete {path} and restart for a new one)."
        )
    password = secrets.token_urlsafe(12)
    data_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(
            "# Made by the first `pipeline up`; add [[users]] and [[tokens]] tables as needed.\n"
            f'[[users]]\nname = "admin"\nrole = "admin"\npassword_hash = "{hash_password(password)}"\n'
        )
    return env, f"First login: admin / {password}  (shown once; only its hash is kept, in {path})"


def _report_dead(children: list[Child], log_dir: Path | None, say: Callable[[str], None]) -> None:
    """Name each child that exited and, from its log file, the last lines it wrote."""
    for child in children:
        if child.alive() or child.proc is None:
            continue
        say(f"The {child.name} process exited (code {child.proc.returncode}).")
        if log_dir is not None:
            path = log_dir / f"{child.name}.log"
            with contextlib.suppress(OSError):
                lines = path.read_text(errors="replace").splitlines()[-5:]
                say("\n".join(f"  {line}" for line in lines) + f"\n  (all of it in {path})")


def _wait_until_ready(url: str, children: list[Child], stop: threading.Event, timeout_s: float = 60) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not stop.is_set():
        if not all(c.alive() for c in children):
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return False


def _wait_for_worker(
    settings: Settings, children: list[Child], stop: threading.Event, timeout_s: float = 60
) -> bool:
    """Until the worker's first heartbeat: its queues are then known, so the API serves them."""
    client = make_client(settings)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and not stop.is_set():
            if not all(c.alive() for c in children):
                return False
            with contextlib.suppress(*REDIS_ERRORS):
                names = cast(set[bytes], client.smembers(queues_set(settings.namespace)))
                for name in names:
                    if client.hlen(QueueKeys.for_queue(settings.namespace, name.decode()).workers):
                        return True
            time.sleep(0.2)
        return False
    finally:
        client.close()


def _shutdown(
    children: list[Child], server: EmbeddedRedis | None, say: Callable[[str], None], failed: bool
) -> int:
    say("Stopping: api, scheduler, then the worker (running jobs finish or go back to waiting)...")
    for child in reversed(children):  # api, scheduler, worker
        child.stop()
    if server is not None:
        server.stop()
    say("Stopped." if not failed else "Stopped after an error (see the output above).")
    return 1 if failed else 0


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if ":" in host:
        return f"[{host}]"
    return host


def _safe(url: str) -> str:
    parts = urlsplit(url)
    return url.replace(f":{parts.password}@", ":***@", 1) if parts.password else url


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        # As uvicorn binds: a previous run's connections in TIME_WAIT do not make the port busy.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ConfigurationError(
                f"cannot serve the API on {host}:{port}: {exc.strerror} (pass --port)"
            ) from None
