"""Bad connection settings: one line naming the setting and what is wrong, never a traceback."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading

import pytest

from tests.support import free_port, run_isolated


def _run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return run_isolated(argv, env)


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "pipeline.cli", *args], **env)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"REDIS_URL": "http://x"},
            "Error: REDIS_URL must start with redis://, rediss:// or unix://, got 'http://x'",
        ),
        ({"REDIS_URL": "redis://127.0.0.1:notaport/0"}, "Error: REDIS_URL has an invalid port"),
        ({"REDIS_PORT": "abc"}, "Error: REDIS_PORT must be an integer, got 'abc'"),
        (
            {"REDIS_URL": "redis://nosuchhost.invalid:6379/0"},
            "Error: cannot reach Redis at nosuchhost.invalid:6379 (from REDIS_URL): host name not found.",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(env, expected):
    result = _cli("queues", **env)
    assert result.returncode == 1
    assert result.stderr.startswith(expected) and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr and "redis-server" not in result.stderr


def test_only_a_loopback_address_gets_the_advice_to_start_redis_server():
    port = free_port()
    result = _cli("queues", REDIS_HOST="127.0.0.1", REDIS_PORT=str(port))
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert (
        f"cannot reach Redis at 127.0.0.1:{port} (from REDIS_HOST/REDIS_PORT): connection refused"
        in result.stderr
    )
    assert f"Start one with 'redis-server --port {port}'" in result.stderr


def test_a_server_that_is_not_redis_is_named_as_such():
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        result = _cli("queues", REDIS_URL=f"redis://127.0.0.1:{port}/0")
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "does not answer in the Redis protocol" in result.stderr


def test_the_dramatiq_worker_entry_ends_with_one_line_on_a_bad_url():
    result = _run(
        [sys.executable, "-m", "dramatiq", "pipeline.actors", "--processes", "1"], REDIS_URL="http://x"
    )
    assert result.returncode == 3
    assert "error: REDIS_URL must start with redis://" in result.stderr
    assert "Traceback" not in result.stderr
