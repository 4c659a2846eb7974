"""A Dramatiq user's script runs unchanged on PipelineBroker as on RedisBroker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import redis

from pipeline.settings import Settings
from tests.support import unique

ROOT = Path(__file__).resolve().parent.parent


def run_script(kind: str, url: str, namespace: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.apps.dramatiq_user_script", kind, url, namespace],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_a_users_script_gives_the_same_results_on_pipeline_broker_as_on_redis_broker(
    settings: Settings, client: redis.Redis
) -> None:
    # Given one script: pipeline, group, callbacks reading retries, PickleEncoder,
    # get_result(timeout=0), the broker built with url=
    namespaces = [unique("stock"), unique("ours")]
    try:
        # When it runs on Dramatiq's RedisBroker and on ours
        stock = run_script("redis", settings.redis_url, namespaces[0])
        ours = run_script("pipeline", settings.redis_url, namespaces[1])
    finally:
        for namespace in namespaces:
            for key in client.scan_iter(match=f"{namespace}*"):
                client.delete(key)
    # Then it observes the same things
    assert stock == {
        "immediate": "ResultTimeout",
        "first": 3,
        "pipeline": 6,
        "group": [0, 2, 4],
        "success": [[0, 5]],
        "failure": [[1, "ValueError"], [2, "ValueError"]],
    }
    assert ours == stock
