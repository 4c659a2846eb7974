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
from collections.abc import Callable
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


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def broken(change: Callable[[dict[str, dict[str, Any]]], object]) -> dict[str, Any]:
    """A copy of docker-compose.yml with one defect: ``change`` edits its services."""
    doc = compose()
    change(doc["services"])
    return doc


# Each check returns what is wrong (nothing when the stack is right).  Every test runs its check
# on the real files and then on copies broken on purpose, so a check that cannot fail fails.


def schema_problems(doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def restart_and_health_problems(doc: dict[str, Any]) -> list[str]:
    problems = []
    for name, service in doc["services"].items():
        if name == "storage-init":
            if service.get("restart") != "no" or service.get("healthcheck") != {"disable": True}:
                problems.append(f"{name}: a one-shot job must not restart and has no health check")
            continue
        if service.get("restart") != "unless-stopped":
            problems.append(f"{name}: restart is {service.get('restart')!r}")
        test = service.get("healthcheck", {}).get("test") or [None]
        if test[0] not in ("CMD", "CMD-SHELL"):
            problems.append(f"{name}: no health check command")
    return problems


def root_user_problems(doc: dict[str, Any], image_file: str) -> list[str]:
    users = re.findall(r"^USER\s+(\S+)", image_file, re.MULTILINE)
    problems = [] if users and users[-1].split(":")[0] not in ("root", "0") else ["the image runs as root"]
    for name, service in doc["services"].items():
        if service.get("image") == OUR_IMAGE:
            if "user" in service:  # the image's own non-root user
                problems.append(f"{name}: overrides the image's user")
        elif str(service.get("user", "root")).split(":")[0] in ("root", "0"):
            problems.append(f"{name}: runs as root")
    return problems


def published_port_problems(doc: dict[str, Any]) -> list[str]:
    published = {name: s["ports"] for name, s in doc["services"].items() if "ports" in s}
    problems = [] if "api" in published else ["the API is not published"]
    for name, ports in published.items():
        problems += [
            f"{name}: {p} is reachable beyond loopback" for p in ports if not str(p).startswith("127.0.0.1:")
        ]
    return problems


def redis_problems(doc: dict[str, Any]) -> list[str]:
    command = " ".join(doc["services"]["redis"].get("command", []))
    problems = [] if "--appendonly yes" in command else ["Redis keeps no append-only file"]
    return problems + ([] if "--maxmemory-policy noeviction" in command else ["Redis may evict keys"])


def bucket_problems(doc: dict[str, Any]) -> list[str]:
    stack = doc["services"]
    problems = []
    if stack["storage-init"].get("command") != ["pipeline", "storage-init"]:
        problems.append("storage-init does not create the bucket")
    if stack["storage-init"].get("depends_on", {}).get("minio") != {"condition": "service_healthy"}:
        problems.append("storage-init may run before MinIO answers")
    if stack["worker"].get("depends_on", {}).get("storage-init") != {
        "condition": "service_completed_successfully"
    }:
        problems.append("workers may start before the bucket exists")
    if "S3_PUBLIC_ENDPOINT_URL" not in stack["worker"].get("environment", {}):
        problems.append("URLs are signed for the internal endpoint")
    return problems


def image_content_problems(image_file: str) -> list[str]:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    problems = [
        f"package {package} is not copied"
        for package in (pattern.rstrip("*") for pattern in packages["include"])
        if not re.search(rf"^COPY {package} \./{package}$", image_file, re.MULTILINE)
    ]
    return problems + ([] if "COPY pyproject.toml README.md ./" in image_file else ["no project metadata"])


def known_settings() -> set[str]:
    """The core's settings and the domain's, each read in one module."""
    sources = [ROOT / "pipeline" / "settings.py", ROOT / "actors" / "settings.py"]
    found = {n for p in sources for n in re.findall(r'\benv_\w+\("([A-Z0-9_]+)"', p.read_text())}
    return found | {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def unknown_command_and_setting_problems(doc: dict[str, Any]) -> list[str]:
    known = known_settings()
    problems = []
    for name, service in doc["services"].items():
        if service.get("image") != OUR_IMAGE:
            continue
        problems += [
            f"{name}: unknown setting {s}" for s in sorted(set(service.get("environment", {})) - known)
        ]
        command = service["command"]
        if command[0] == "pipeline":  # plugins' commands (storage-init) included
            if cli.get_command(click.Context(cli), command[1]) is None:
                problems.append(f"{name}: no command pipeline {command[1]}")
        elif command[:2] != ["dramatiq", "pipeline.actors"]:
            problems.append(f"{name}: runs {command[:2]}, not the domain's worker")
    return problems


def test_the_compose_file_is_valid_against_the_compose_specification():
    assert schema_problems(compose()) == []
    assert schema_problems(broken(lambda s: s["redis"].update(restart=["always"])))
    assert schema_problems(broken(lambda s: s["api"].update(helthcheck={"test": ["CMD", "true"]})))
    assert schema_problems(broken(lambda s: s["worker"]["depends_on"].update(redis={"condition": "up"})))


def test_every_service_restarts_and_has_a_health_check_except_the_one_shot_bucket_setup():
    assert restart_and_health_problems(compose()) == []
    assert restart_and_health_problems(broken(lambda s: s["scheduler"].update(restart="on-failure")))
    assert restart_and_health_problems(broken(lambda s: s["mail"].pop("healthcheck")))
    assert restart_and_health_problems(broken(lambda s: s["api"].update(healthcheck={"disable": True})))
    assert restart_and_health_problems(broken(lambda s: s["storage-init"].update(restart="unless-stopped")))


def test_every_container_runs_as_a_non_root_user():
    assert root_user_problems(compose(), dockerfile()) == []
    assert root_user_problems(compose(), dockerfile() + "USER root\n")
    assert root_user_problems(compose(), re.sub(r"^USER .*$", "", dockerfile(), flags=re.MULTILINE))
    assert root_user_problems(broken(lambda s: s["postgres"].pop("user")), dockerfile())
    assert root_user_problems(broken(lambda s: s["minio"].update(user="0:0")), dockerfile())
    assert root_user_problems(broken(lambda s: s["worker"].update(user="root")), dockerfile())


def test_published_ports_are_bound_to_loopback_only():
    assert published_port_problems(compose()) == []
    assert published_port_problems(broken(lambda s: s["api"].update(ports=["8080:8080"])))
    assert published_port_problems(broken(lambda s: s["mail"].update(ports=["0.0.0.0:8025:8025"])))
    assert published_port_problems(broken(lambda s: s["api"].pop("ports")))


def test_redis_keeps_an_append_only_file_and_never_evicts():
    assert redis_problems(compose()) == []
    no_aof = ["redis-server", "--appendonly", "no", "--maxmemory-policy", "noeviction"]
    assert redis_problems(broken(lambda s: s["redis"].update(command=no_aof)))
    evicting = ["redis-server", "--appendonly", "yes", "--maxmemory-policy", "allkeys-lru"]
    assert redis_problems(broken(lambda s: s["redis"].update(command=evicting)))


def test_the_bucket_exists_before_any_worker_starts_and_urls_are_signed_for_a_public_endpoint():
    assert bucket_problems(compose()) == []
    assert bucket_problems(broken(lambda s: s["storage-init"].update(command=["pipeline", "ping"])))
    assert bucket_problems(broken(lambda s: s["storage-init"]["depends_on"].pop("minio")))
    assert bucket_problems(
        broken(lambda s: s["worker"]["depends_on"].update({"storage-init": {"condition": "service_started"}}))
    )
    assert bucket_problems(broken(lambda s: s["worker"]["environment"].pop("S3_PUBLIC_ENDPOINT_URL")))


def test_the_image_holds_every_package_the_project_ships():
    assert image_content_problems(dockerfile()) == []
    assert image_content_problems(dockerfile().replace("COPY middleware ./middleware\n", ""))
    assert image_content_problems(dockerfile().replace("COPY pyproject.toml README.md ./", "COPY . ."))


def test_every_command_and_setting_the_stack_uses_exists():
    assert unknown_command_and_setting_problems(compose()) == []
    assert unknown_command_and_setting_problems(
        broken(lambda s: s["api"]["environment"].update(REDIS_UR="x"))
    )
    assert unknown_command_and_setting_problems(
        broken(lambda s: s["scheduler"].update(command=["pipeline", "schedule"]))
    )
    assert unknown_command_and_setting_problems(
        broken(lambda s: s["worker"].update(command=["dramatiq", "pipeline.actor"]))
    )


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
