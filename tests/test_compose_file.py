"""docker-compose.yml cannot run here (no Docker engine); check what it names exists."""

from __future__ import annotations

import importlib

import yaml

from pipeline.cli import main
from tests.support import ROOT


def test_the_compose_file_runs_real_entry_points_with_known_settings():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"redis", "worker", "scheduler", "api"} <= set(services)
    assert services["api"]["command"][:2] == ["pipeline", "api"]
    worker_cmd = services["worker"]["command"]
    assert worker_cmd[:2] == ["dramatiq", "pipeline.actors"]
    importlib.import_module("pipeline.actors")
    assert services["scheduler"]["command"] == ["pipeline", "scheduler"]
    try:
        main(["scheduler", "--help"])
    except SystemExit as exc:
        assert exc.code == 0
    from pipeline.settings import Settings

    env = services["worker"]["environment"]
    known = {
        "REDIS_URL",
        "DATABASE_URL",
        "STORAGE_BACKEND",
        "S3_ENDPOINT_URL",
        "S3_BUCKET",
        "SMTP_HOST",
        "SMTP_PORT",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    }
    assert set(env) <= known
    assert (
        Settings.from_env().replace(redis_url=env["REDIS_URL"]).resolved_redis_url() == "redis://redis:6379/0"
    )
