"""``pipeline up``: the whole system as one process tree on the embedded default."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
from pathlib import Path

import httpx

from tests.support import LoggedProcess, free_port, wait_for


class Up(LoggedProcess):
    """``pipeline up`` in its own session, as a terminal would run it."""

    def __init__(self, data_dir: Path, port: int, *args: str, env: dict[str, str] | None = None) -> None:
        self.ready = threading.Event()
        super().__init__(
            [
                sys.executable,
                "-m",
                "pipeline.cli",
                "up",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
                *args,
            ],
            {"PIPELINE_NAMESPACE": "pl", "PYTHONUNBUFFERED": "1", **(env or {})},
        )

    def on_line(self, line: str) -> None:
        if line.startswith("Dashboard:"):
            self.ready.set()

    def wait_ready(self) -> Up:
        wait_for(lambda: self.ready.is_set() or self.proc.poll() is not None, 90, interval=0.1)
        if not self.ready.is_set():
            raise AssertionError("pipeline up did not come up:\n" + self.log())
        return self

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT to the foreground process group; returns the exit code."""
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(90)


TOKEN_ENV = {"PIPELINE_API_TOKENS": "tests:admin:up-test-token-0123456789"}
AUTH = {"Authorization": "Bearer up-test-token-0123456789"}


def descendants(pid: int) -> set[int]:
    """Every live process whose parent chain leads to ``pid``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier}
        found |= children
        frontier = children
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_up_runs_a_job_added_through_the_api_stops_cleanly_and_keeps_it_for_the_next_run(
    tmp_path, monkeypatch
):
    for name in ("REDIS_URL", "REDIS_HOST", "REDIS_PORT"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    # Given the system brought up with one command on the embedded default
    first = Up(tmp_path, port, env=TOKEN_ENV).wait_ready()
    try:
        assert "private redis-server" in first.log() and str(tmp_path) in first.log()
        tree = descendants(first.proc.pid)
        assert len(tree) >= 4  # redis-server, worker (+ its process), scheduler, api
        assert httpx.get(base + "/", headers=AUTH, timeout=10).status_code == 200  # the dashboard
        # When a job is added through the API, the worker runs it
        added = httpx.post(
            base + "/queues/demo/jobs",
            json={"name": "resize", "data": {"image": "a.jpg", "width": 64}},
            headers=AUTH,
            timeout=10,
        )
        assert added.status_code == 201, added.text
        job_id = added.json()["id"]
        done = wait_for(
            lambda: (
                (j := httpx.get(f"{base}/queues/demo/jobs/{job_id}", headers=AUTH, timeout=10).json())[
                    "state"
                ]
                == "completed"
                and j
            ),
            60,
            interval=0.2,
        )
        assert done["result"] == {"image": "a.jpg", "width": 64}
    finally:
        # Then Ctrl-C stops everything and leaves no process behind
        code = first.interrupt()
    assert code == 0, first.log()
    assert "Stopped." in first.log()
    wait_for(lambda: not any(alive(pid) for pid in tree), 30, message="every child of pipeline up exited")

    # And a second run still shows the earlier job
    second = Up(tmp_path, port, env=TOKEN_ENV).wait_ready()
    try:
        again = httpx.get(f"{base}/queues/demo/jobs/{job_id}", headers=AUTH, timeout=10).json()
        assert again["state"] == "completed" and again["result"] == {"image": "a.jpg", "width": 64}
    finally:
        assert second.interrupt() == 0, second.log()


def test_up_demo_seeds_jobs_in_every_state_and_prints_the_first_login(tmp_path, monkeypatch):
    for name in ("REDIS_URL", "REDIS_HOST", "REDIS_PORT", *TOKEN_ENV, "PIPELINE_API_USERS"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    up = Up(tmp_path, port, "--demo").wait_ready()
    try:
        assert "Demo jobs added" in up.log()
        # The first login is printed once; only its hash is kept
        password = re.search(r"First login: admin / (\S+)", up.log()).group(1)
        stored = (tmp_path / "api-credentials.toml").read_text()
        assert password not in stored and "$argon2" in stored
        session = httpx.Client(base_url=base, timeout=10)
        assert session.get("/queues").status_code == 401
        login = session.post(
            "/auth/login", json={"name": "admin", "password": password}, headers={"Origin": base}
        )
        assert login.status_code == 200, login.text

        def counts() -> dict[str, dict[str, int]]:
            return {q["name"]: q["counts"] for q in session.get("/queues").json()}

        wanted = {"completed", "failed", "active", "delayed"}
        seen = wait_for(
            lambda: (c := counts()) and {s for s in wanted if c["demo"].get(s)} == wanted and c,
            60,
            interval=0.3,
        )
        assert seen["demo-paused"]["paused"] == 3
    finally:
        assert up.interrupt() == 0, up.log()


def test_a_child_that_cannot_start_is_named_with_its_last_log_lines_and_everything_stops(
    tmp_path, monkeypatch
):
    for name in ("REDIS_URL", "REDIS_HOST", "REDIS_PORT"):
        monkeypatch.delenv(name, raising=False)
    up = Up(tmp_path, free_port(), env={"PIPELINE_API_TOKENS": "ops:admin:short"})
    code = up.proc.wait(90)
    assert code == 1, up.log()
    assert "The api process exited" in up.log()
    assert "the token of 'ops' is shorter than 16 characters" in up.log()
    assert str(tmp_path / "logs" / "api.log") in up.log()
    assert "Stopped after an error" in up.log()
