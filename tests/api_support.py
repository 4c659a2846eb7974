"""Helpers shared by the API tests: the route table and a private Redis to take down."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pipeline.api import create_app
from pipeline.api.auth import Credentials
from tests.support import redis_answers, wait_for


def routes() -> list[tuple[str, str]]:
    """Every route of the OpenAPI document, and the document itself."""
    spec = create_app(Credentials()).openapi()
    out = [(method.upper(), path) for path, ops in spec["paths"].items() for method in ops]
    return [*out, ("GET", "/openapi.json")]


def concrete(path: str, queue: str) -> str:
    return path.replace("{queue}", queue).replace("{job_id}", "some-job").replace("{key}", "some-key")


def start_redis(port: int, data_dir: str) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            data_dir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: redis_answers(f"redis://127.0.0.1:{port}/0"), 10, message="redis-server up")
    return proc
