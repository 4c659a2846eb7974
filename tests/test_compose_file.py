"""docker-compose.yml and the Dockerfile, checked as far as a machine without a Docker engine allows:
the Compose specification's schema, the stack's properties, the image's contents, and the
stack's own commands and health checks run as plain processes against real servers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import click
import httpx
import jsonschema
import pytest
import yaml

from pipeline.cli import cli
from tests.domain.servers import S3Server, SmtpServer
from tests.support import ROOT, LoggedProcess, free_port, unique, wait_for

#: The Compose specification's JSON schema (compose-spec/compose-spec, schema/compose-spec.json).
SCHEMA = Path(__file__).parent / "data" / "compose-spec.json"
OUR_IMAGE = "dramatiq-pipeline:latest"


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def test_the_compose_file_is_valid_against_the_compose_specification():
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(compose())


def test_every_service_restarts_and_has_a_health_check_except_the_one_shot_bucket_setup():
    for name, service in services().items():
        if name == "storage-init":
            assert service["restart"] == "no" and service["healthcheck"] == {"disable": True}
            continue
        assert service.get("restart") == "unless-stopped", name
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name


def test_every_container_runs_as_a_non_root_user():
    final_user = re.findall(r"^USER\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)[-1]
    assert final_user.split(":")[0] not in ("root", "0")
    for name, service in services().items():
        if service.get("image") == OUR_IMAGE:
            assert "user" not in service, name  # the image's own non-root user
        else:
            assert service["user"].split(":")[0] not in ("root", "0"), name


def test_published_ports_are_bound_to_loopback_only():
    published = {name: s["ports"] for name, s in services().items() if "ports" in s}
    assert "api" in published
    for name, ports in published.items():
        assert all(str(p).startswith("127.0.0.1:") for p in ports), name


def test_redis_keeps_an_append_only_file_and_never_evicts():
    command = " ".join(services()["redis"]["command"])
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command


def test_the_bucket_exists_before_any_worker_starts_and_urls_are_signed_for_a_public_endpoint():
    stack = services()
    assert stack["storage-init"]["command"] == ["pipeline", "storage-init"]
    assert stack["storage-init"]["depends_on"]["minio"] == {"condition": "service_healthy"}
    assert stack["worker"]["depends_on"]["storage-init"] == {"condition": "service_completed_successfully"}
    assert "S3_PUBLIC_ENDPOINT_URL" in stack["worker"]["environment"]


def test_the_image_holds_every_package_the_project_ships():
    dockerfile = (ROOT / "Dockerfile").read_text()
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for pattern in packages["include"]:
        package = pattern.rstrip("*")
        assert re.search(rf"^COPY {package} \./{package}$", dockerfile, re.MULTILINE), package
    assert "COPY pyproject.toml README.md ./" in dockerfile


def test_every_command_and_setting_the_stack_uses_exists():
    # The core's settings and the domain's, each read in one module.
    sources = [ROOT / "pipeline" / "settings.py", ROOT / "actors" / "settings.py"]
    known_settings = {n for p in sources for n in re.findall(r'\benv_\w+\("([A-Z0-9_]+)"', p.read_text())}
    known_settings |= {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    for name, service in services().items():
        if service.get("image") != OUR_IMAGE:
            continue
        assert set(service["environment"]) <= known_settings, name
        command = service["command"]
        if command[0] == "pipeline":
            # Plugins' commands (storage-init) included.
            assert cli.get_command(click.Context(cli), command[1]) is not None, name
        else:
            assert command[:2] == ["dramatiq", "pipeline.actors"], name


def _interpolate(value: str, source: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` against ``source``."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        if source.get(name):
            return source[name]
        if op == ":?":
            raise AssertionError(f"compose would stop: {arg}")
        return arg if op == ":-" else ""

    return re.sub(r"\$\{([A-Z0-9_]+)(:[-?])?([^}]*)\}", one, value)


def _service_env(service: str, here: dict[str, str], source: dict[str, str]) -> dict[str, str]:
    """A service's environment as compose would give it, its addresses replaced by this machine's."""
    env = {k: _interpolate(str(v), source) for k, v in services()[service].get("environment", {}).items()}
    return {**env, **here}


def _here(
    redis_url: str, namespace: str, s3: S3Server, bucket: str, smtp: SmtpServer, db: Path
) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
        "PIPELINE_NAMESPACE": namespace,
        "DATABASE_URL": f"sqlite:///{db}",
        "S3_ENDPOINT_URL": s3.endpoint_url,
        # Another spelling of the same server: what a browser would be given.
        "S3_PUBLIC_ENDPOINT_URL": s3.endpoint_url.replace("127.0.0.1", "localhost"),
        "S3_BUCKET": bucket,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        **smtp.env(),
    }


def _health(test: list[str], ports: dict[int, int], env: dict[str, str]) -> bool:
    argv = test[1:]
    argv = [re.sub(r"127\.0\.0\.1:(\d+)", lambda m: f"127.0.0.1:{ports[int(m.group(1))]}", a) for a in argv]
    if argv[0] == "python":
        argv[0] = sys.executable
    elif argv[0] == "pipeline":
        argv = [sys.executable, "-m", "pipeline.cli", *argv[1:]]
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, timeout=30)
    return result.returncode == 0


@pytest.fixture
def s3() -> Any:
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Any:
    server = SmtpServer().start()
    yield server
    server.stop()


def test_the_stack_runs_as_plain_processes_with_its_own_commands_and_health_checks(
    settings, s3, smtp, tmp_path
):
    stack = services()
    bucket = unique("bucket")
    here = _here(settings.redis_url, settings.namespace, s3, bucket, smtp, tmp_path / "db.sqlite")
    api_port, metrics_port = free_port(), free_port()
    ports = {8080: api_port, 9191: metrics_port}
    # What an operator puts in .env: the API listens beyond loopback, so it needs credentials.
    dotenv = {"PIPELINE_API_TOKENS": "ops:admin:compose-test-token-0123"}
    auth = {"Authorization": "Bearer compose-test-token-0123"}
    envs = {
        name: {**os.environ, **_service_env(name, here, dotenv)}
        for name in ("storage-init", "worker", "scheduler", "api")
    }
    envs["worker"]["PIPELINE_METRICS_PORT"] = str(metrics_port)
    env = envs["worker"]

    def argv(service: str) -> list[str]:
        command = [str(part) for part in stack[service]["command"]]
        command = [str(ports.get(int(p), p)) if p.isdigit() and int(p) in ports else p for p in command]
        if command[0] == "pipeline":
            return [sys.executable, "-m", "pipeline.cli", *command[1:]]
        return [sys.executable, "-m", *command]

    # storage-init creates the bucket, and says so again harmlessly
    first = subprocess.run(
        argv("storage-init"), cwd=ROOT, env=envs["storage-init"], capture_output=True, text=True, timeout=60
    )
    assert first.returncode == 0 and "created" in first.stdout, first.stderr
    again = subprocess.run(
        argv("storage-init"), cwd=ROOT, env=envs["storage-init"], capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0 and "already there" in again.stdout

    processes = {name: LoggedProcess(argv(name), envs[name]) for name in ("worker", "scheduler", "api")}
    try:
        for name, process in processes.items():
            wait_for(
                lambda s=stack[name], n=name: _health(s["healthcheck"]["test"], ports, envs[n]),
                60,
                interval=0.5,
                message=f"{name}'s health check passes:\n{process.log()}",
            )
        # A report job through the API lands in the bucket, with a URL signed for the public endpoint
        base = f"http://127.0.0.1:{api_port}"
        assert httpx.get(f"{base}/queues").status_code == 401  # reached only with credentials
        added = httpx.post(
            f"{base}/queues/reports/jobs",
            params={"create": "true"},
            json={"name": "generate", "data": {"report_type": "sample-sales"}},
            headers=auth,
        )
        assert added.status_code == 201, added.text
        job_id = added.json()["id"]
        done = wait_for(
            lambda: (
                (j := httpx.get(f"{base}/queues/reports/jobs/{job_id}", headers=auth).json())["state"]
                in ("completed", "failed")
                and j
            ),
            90,
            interval=0.3,
        )
        assert done["state"] == "completed", done.get("failed_reason")
        url = done["result"]["url"]
        assert url.startswith(env["S3_PUBLIC_ENDPOINT_URL"] + f"/{bucket}/")
        pdf = httpx.get(url, timeout=10)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    finally:
        for process in processes.values():
            process.stop()
