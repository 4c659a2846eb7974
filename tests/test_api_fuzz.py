"""A schemathesis run over the OpenAPI document: no input gives a 5xx with Redis up, and
with Redis down the only 5xx is 503."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pipeline import wiring
from pipeline.queue import Queue
from tests.api_support import start_redis
from tests.conftest import API_TOKENS
from tests.support import free_port, unique

#: Examples per operation: enough to reach every parameter's edges, small enough for CI.
EXAMPLES = 15


def fuzz(base: str, *checks: str) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).with_name("schemathesis")
    workdir = tempfile.mkdtemp(prefix="pipeline-fuzz-")  # its cache of crashes stays out of the tree
    run = subprocess.run(
        [
            str(cli),
            "run",
            f"{base}/openapi.json",
            "--checks",
            ",".join(checks),
            "--header",
            f"Authorization: Bearer {API_TOKENS['admin']}",
            "--max-examples",
            str(EXAMPLES),
            "--exclude-path",
            "/live",  # a stream that never ends: its 503 is covered in test_api_redis_down
            "--phases",
            "examples,coverage,fuzzing",
            "--seed",
            "1",
            "--no-color",
            "--request-timeout",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        cwd=workdir,
    )
    shutil.rmtree(workdir, ignore_errors=True)
    return run


def test_fuzzing_the_api_finds_no_server_error(api_server, queue_name):
    Queue(queue_name).add("x", {})  # so some generated names meet a real queue
    base = api_server()
    run = fuzz(base, "not_a_server_error")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def test_fuzzing_the_api_with_redis_down_finds_only_503s(settings, api_server):
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="pipeline-fuzz-redis-")
    server = start_redis(port, data_dir)
    try:
        # One quick retry per call (not three, backing off 0.7 s in all): each 503 comes sooner.
        url = f"redis://127.0.0.1:{port}/0"
        down = settings.replace(redis_url=url, namespace=unique("ns"), redis_retries=1)
        wiring.configure(down)
        base = api_server()
        server.terminate()
        server.wait(10)
        run = fuzz(base, "not_a_server_error")
        # The run reports each server error as "[<status>] <reason>": all must be the 503.
        statuses = set(re.findall(r"^\[(5\d\d)\] ", run.stdout, flags=re.MULTILINE))
        assert statuses == {"503"}, run.stdout[-6000:]
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)
