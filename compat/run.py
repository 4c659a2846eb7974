"""Dramatiq's own tests against ``PipelineBroker``: ``make compat``.

Downloads the source distribution of the *installed* Dramatiq version from
PyPI (``pip download --no-binary :all:``), takes its test files (never kept
in this repository), adds this directory's ``conftest.py`` and ``common.py``
(the sdist ships neither), runs the files that exercise brokers, actors,
callbacks, composition, results, messages, encoders, the Redis broker and the
worker, and compares each outcome with ``expected_failures.txt``.  A new
failure, or an expected failure that passes, fails the check (exit 1).  Tests
in ``timing_dependent.txt`` race against a broker that answers over a network
(they assume the stub broker's instant, in-memory delivery); their outcome is
printed but not judged.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import dramatiq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = ROOT / ".compat"

#: Dramatiq's test files this check runs (the rest need RabbitMQ, the CLI in
#: subprocesses, file watching or rate-limiter backends, none of them the broker).
FILES = [
    "test_actors.py",
    "test_broker.py",
    "test_callbacks.py",
    "test_composition.py",
    "test_encoders.py",
    "test_generic_actors.py",
    "test_messages.py",
    "test_redis.py",
    "test_results.py",
    "test_worker.py",
]
#: Seconds one test may take; Dramatiq's slowest selected tests take a few.
PER_TEST_TIMEOUT = 30


def sdist_tests(version: str) -> Path:
    """The ``tests/`` directory of Dramatiq ``version``'s source distribution, downloaded once."""
    target = CACHE / f"dramatiq-{version}" / "tests"
    if target.is_dir():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-binary",
                ":all:",
                "--no-deps",
                "--dest",
                tmp,
                f"dramatiq=={version}",
            ],
            check=True,
        )
        archives = list(Path(tmp).glob("dramatiq-*.tar.gz"))
        if not archives:
            raise SystemExit(f"pip downloaded no source distribution of dramatiq {version}")
        staging = Path(tmp) / "x"
        with tarfile.open(archives[0]) as tar:
            members = [m for m in tar.getmembers() if "/tests/" in m.name and m.isfile()]
            tar.extractall(staging, members=members, filter="data")
        found = next(staging.glob("*/tests"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(found, target)
    return target


def listed(name: str) -> dict[str, str]:
    """``test id -> reason`` from a list in this directory (``id  # reason`` per line)."""
    entries = {}
    for line in (HERE / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        test_id, _, reason = line.partition("#")
        if not reason.strip():
            raise SystemExit(f"{name}: {test_id.strip()} has no reason")
        entries[test_id.strip()] = reason.strip()
    return entries


def outcomes(report: Path) -> dict[str, str]:
    """``test id -> passed | failed | skipped`` from pytest's JUnit XML."""
    result = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        test_id = f"{module}.py::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            result[test_id] = "failed"
        elif case.find("skipped") is not None:
            result[test_id] = "skipped"
        else:
            result[test_id] = "passed"
    return result


def main() -> int:
    version = dramatiq.__version__
    source = sdist_tests(version)
    expected = listed("expected_failures.txt")
    timing = listed("timing_dependent.txt")
    with tempfile.TemporaryDirectory(prefix="dramatiq-compat-") as tmp:
        work = Path(tmp)
        tests = work / "tests"
        tests.mkdir()
        (tests / "__init__.py").write_text("")
        for name in FILES:
            shutil.copy(source / name, tests / name)
        shutil.copy(HERE / "conftest.py", tests / "conftest.py")
        shutil.copy(HERE / "common.py", tests / "common.py")
        (work / "pytest.ini").write_text("[pytest]\n")
        report = work / "report.xml"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        print(
            f"Dramatiq {version}: running {len(FILES)} of its test files against PipelineBroker", flush=True
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:randomly",
                f"--timeout={PER_TEST_TIMEOUT}",
                f"--junitxml={report}",
                "-o",
                "junit_family=xunit1",
                "--rootdir",
                str(work),
                "tests",
            ],
            cwd=work,
            env=env,
            check=False,
        )
        if not report.exists():
            print("compat: pytest wrote no report")
            return 1
        got = outcomes(report)
    return compare(got, expected, timing)


def compare(got: dict[str, str], expected: dict[str, str], timing: dict[str, str]) -> int:
    new_failures = sorted(
        t for t, o in got.items() if o == "failed" and t not in expected and t not in timing
    )
    now_passing = sorted(t for t in expected if got.get(t) == "passed")
    missing = sorted(t for t in expected if t not in got)
    skipped = sorted(t for t, o in got.items() if o == "skipped")
    passed = sum(1 for o in got.values() if o == "passed")
    failed = sum(1 for o in got.values() if o == "failed")
    print(
        f"compat: of {len(got)} tests of Dramatiq's, {passed} pass, {failed} fail"
        f" ({len(expected)} listed as expected to fail), {len(skipped)} skip"
    )
    for t in skipped:
        print(f"  skipped (by Dramatiq's own markers): {t}")
    for t in sorted(timing):
        print(f"  timing-dependent, not judged: {t}: {got.get(t, 'not run')}")
    for t in new_failures:
        print(f"  NEW FAILURE: {t}")
    for t in now_passing:
        print(f"  EXPECTED FAILURE NOW PASSES (remove it from expected_failures.txt): {t}")
    for t in missing:
        print(f"  EXPECTED FAILURE NOT RUN (stale entry in expected_failures.txt): {t}")
    ok = not (new_failures or now_passing or missing)
    print("compat: OK" if ok else "compat: MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
