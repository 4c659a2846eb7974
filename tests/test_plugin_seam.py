"""The core (``pipeline/``, ``middleware/``) names no plugin; the domain plugs in through entry points."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import plugins
from tests.support import ROOT, free_port, run_isolated, run_python

CORE = ("pipeline", "middleware")
DOMAIN = "actors"


def _is_domain(module: str) -> bool:
    return module == DOMAIN or module.startswith(DOMAIN + ".")


def _domain_imports(source: str, where: str) -> list[str]:
    """Every place ``source`` imports the domain: import statements and ``import_module("actors...")``."""
    found = []
    for node in ast.walk(ast.parse(source, filename=where)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        found += [f"{where}:{node.lineno} imports {n}" for n in names if _is_domain(n)]
    return found


def test_no_module_of_the_core_imports_the_domain() -> None:
    files = [p for package in CORE for p in sorted((ROOT / package).rglob("*.py"))]
    assert len(files) > 20  # the walk found the core
    hits = [hit for path in files for hit in _domain_imports(path.read_text(), str(path.relative_to(ROOT)))]
    assert hits == []


def test_the_walk_sees_every_way_of_importing_the_domain() -> None:
    # Given a module that imports the domain in each way the walk knows of
    sample = (
        "import actors\nimport actors.worker as w\nfrom actors.settings import check\n"
        "from actors import deps\nimport importlib\nimportlib.import_module('actors.email.actors')\n"
        "from . import actors\nimport actorsx\n"
    )
    # Then each is found, and neither a relative import nor a look-alike name is
    assert [hit.rpartition(" ")[2] for hit in _domain_imports(sample, "sample.py")] == [
        "actors",
        "actors.worker",
        "actors.settings",
        "actors",
        "actors.email.actors",
    ]


def test_the_installed_project_registers_the_domain_as_a_plugin() -> None:
    assert "actors.worker" in plugins.actor_modules()
    assert "storage-init" in plugins.command_names()


@pytest.mark.parametrize("entry", ["pipeline.actors", "actors.worker"])
def test_either_worker_entry_declares_every_domain_actor(entry: str, settings) -> None:
    code = (
        f"import {entry} as entry, actors.worker as domain, dramatiq\n"
        "declared = {a.fn.__module__ for a in dramatiq.get_broker().actors.values()}\n"
        "assert set(domain.ACTOR_MODULES) <= declared, declared\n"
        "print('ok')\n"
    )
    result = run_python(code, env={"REDIS_URL": settings.redis_url, "PIPELINE_NAMESPACE": settings.namespace})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_actor_modules_setting_adds_modules_to_the_worker(settings) -> None:
    code = (
        "import pipeline.actors, dramatiq\n"
        "print(sorted({a.fn.__module__ for a in dramatiq.get_broker().actors.values()}))\n"
    )
    env = {
        "REDIS_URL": settings.redis_url,
        "PIPELINE_NAMESPACE": settings.namespace,
        "PIPELINE_ACTOR_MODULES": "pipeline.demo",
    }
    result = run_python(code, env=env)
    assert result.returncode == 0, result.stderr
    assert "'pipeline.demo'" in result.stdout and "'actors.email.actors'" in result.stdout


def _dramatiq(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "dramatiq", module, "--processes", "1", "--threads", "1"]
    return run_isolated(argv, env, unset=("REDIS_", "SMTP_", "STORAGE_"))


@pytest.mark.parametrize("module", ["pipeline.actors", "actors.worker"])
def test_a_bad_domain_setting_ends_the_worker_with_one_line(module: str, settings) -> None:
    result = _dramatiq(module, REDIS_URL=settings.redis_url, SMTP_PORT="abc")
    assert result.returncode == 3
    assert "error: SMTP_PORT must be an integer, got 'abc'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_actor_module_ends_the_worker_with_one_line_naming_the_setting(settings) -> None:
    result = _dramatiq(
        "pipeline.actors", REDIS_URL=settings.redis_url, PIPELINE_ACTOR_MODULES="no_such_module_here"
    )
    assert result.returncode == 3
    assert "error: PIPELINE_ACTOR_MODULES: no module named 'no_such_module_here'" in result.stderr
    assert "Traceback" not in result.stderr


def test_pipeline_up_refuses_a_bad_domain_setting_before_starting_anything(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "STORAGE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "up", "--port", str(free_port()), "--data-dir", str(tmp_path)],
        cwd=ROOT,
        env={**clean, "STORAGE_BACKEND": "ftp"},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1
    assert result.stderr == "Error: STORAGE_BACKEND must be 'local' or 's3', got 'ftp'\n"
    assert not (tmp_path / "redis").exists()
