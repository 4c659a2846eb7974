"""A Dramatiq user's script, unchanged but for the broker class it is given.

``python -m tests.apps.dramatiq_user_script <redis|pipeline> <url> <namespace>``
prints one JSON line of what it observed: pipeline and group results,
on_success/on_failure callbacks reading Dramatiq's retry metadata, the
PickleEncoder, and ``get_result(timeout=0)``.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

import dramatiq
import redis
from dramatiq import group, pipeline
from dramatiq.brokers.redis import RedisBroker
from dramatiq.encoder import PickleEncoder
from dramatiq.results import Results, ResultTimeout
from dramatiq.results.backends import RedisBackend

from pipeline.broker import PipelineBroker


def main(kind: str, url: str, namespace: str) -> dict[str, Any]:
    broker_class = {"redis": RedisBroker, "pipeline": PipelineBroker}[kind]
    dramatiq.set_encoder(PickleEncoder())
    broker = broker_class(url=url, namespace=namespace)
    backend = RedisBackend(client=redis.Redis.from_url(url), namespace=namespace)
    broker.add_middleware(Results(backend=backend))
    dramatiq.set_broker(broker)
    seen: dict[str, Any] = {"success": [], "failure": []}
    done = threading.Event()

    @dramatiq.actor(store_results=True)
    def add(x: int, y: int) -> int:
        return x + y

    @dramatiq.actor(max_retries=1, min_backoff=10, max_backoff=10)
    def fails() -> None:
        raise ValueError("nope")

    @dramatiq.actor
    def on_success(message_data: dict[str, Any], result: Any) -> None:
        seen["success"].append([message_data["options"].get("retries", 0), result])

    @dramatiq.actor
    def on_failure(message_data: dict[str, Any], exception_data: dict[str, Any]) -> None:
        seen["failure"].append([message_data["options"]["retries"], exception_data["type"]])
        if message_data["options"]["retries"] == 2:
            done.set()

    slow_result = add.send(1, 2)
    try:
        slow_result.get_result(block=True, timeout=0)
        immediate = "result"
    except ResultTimeout:
        immediate = "ResultTimeout"
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        piped = pipeline([add.message(1, 2), add.message(3)]).run().get_result(block=True, timeout=10_000)
        jobs = group([add.message(i, i) for i in range(3)]).run()
        grouped = list(jobs.get_results(block=True, timeout=10_000))
        add.send_with_options(args=(0, 5), on_success=on_success)
        fails.send_with_options(on_failure=on_failure)
        done.wait(20)
        broker.join(add.queue_name, timeout=20_000)
    finally:
        worker.stop()
    return {
        "immediate": immediate,
        "first": slow_result.get_result(block=True, timeout=10_000),
        "pipeline": piped,
        "group": grouped,
        "success": sorted(seen["success"]),
        "failure": sorted(seen["failure"]),
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
