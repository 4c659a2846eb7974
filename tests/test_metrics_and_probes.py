"""``/metrics`` (Prometheus), ``/health`` and ``/ready``, and a worker serving metrics on a port."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import Depends, HTTPException
from prometheus_client.parser import text_string_to_metric_families

from pipeline import Queue, actor, wiring
from pipeline.api import create_app, probes
from pipeline.api.auth import Credentials
from pipeline.settings import Settings
from tests.support import free_port, unique, wait_for


def _serve(port: int) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 10, message="API server up")
    return server, thread


@pytest.fixture
def api(configured) -> Iterator[httpx.Client]:
    port = free_port()
    server, thread = _serve(port)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        yield client
    server.should_exit = True
    thread.join(10)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, keyed by (sample name, labels)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(scrape: dict, metric: str, **labels: str) -> float:
    return scrape[(metric, frozenset(labels.items()))]


def test_metrics_hold_the_documented_series_with_the_queues_figures(api, broker, worker, settings):
    served, held = unique("q"), unique("held")

    @actor(queue_name=served, job_name="ok", broker=broker)
    def ok() -> str:
        return "done"

    @actor(queue_name=served, job_name="bad", broker=broker)
    def bad() -> None:
        raise RuntimeError("no")

    q, h = Queue(served, settings=settings), Queue(held, settings=settings)
    h.pause()
    h.add_bulk([{"name": "later", "data": {}} for _ in range(2)])
    worker(threads=2, queues={served})
    for _ in range(3):
        q.add("ok", {})
    for _ in range(2):
        q.add("bad", {})
    q.add("ok", {}, delay=600_000)
    wait_for(lambda: q.get_job_counts("completed", "failed") == {"completed": 3, "failed": 2}, 20)
    wait_for(lambda: q.get_workers(), 10)

    reply = api.get("/metrics")

    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    scrape = samples(reply.text)
    assert value(scrape, "pipeline_queue_jobs", queue=served, state="completed") == 3
    assert value(scrape, "pipeline_queue_jobs", queue=served, state="failed") == 2
    assert value(scrape, "pipeline_queue_jobs", queue=served, state="delayed") == 1
    assert value(scrape, "pipeline_queue_jobs", queue=held, state="paused") == 2
    assert value(scrape, "pipeline_queue_jobs", queue=held, state="waiting") == 0
    assert value(scrape, "pipeline_jobs_completed_total", queue=served, name="ok") == 3
    assert value(scrape, "pipeline_jobs_failed_total", queue=served, name="bad") == 2
    assert value(scrape, "pipeline_job_duration_seconds_count", queue=served, name="ok") == 3
    assert value(scrape, "pipeline_job_duration_seconds_bucket", queue=served, name="ok", le="+Inf") == 3
    assert value(scrape, "pipeline_job_duration_seconds_sum", queue=served, name="ok") >= 0
    assert value(scrape, "pipeline_queue_paused", queue=held) == 1
    assert value(scrape, "pipeline_queue_paused", queue=served) == 0
    assert value(scrape, "pipeline_queue_oldest_waiting_age_seconds", queue=held) > 0
    assert value(scrape, "pipeline_queue_oldest_waiting_age_seconds", queue=served) == 0
    assert value(scrape, "pipeline_queue_rate_limited_jobs", queue=served) == 0
    assert value(scrape, "pipeline_jobs_stalled_total", queue=served) == 0
    assert value(scrape, "pipeline_queue_workers", queue=served) == 1
    assert value(scrape, "pipeline_queue_workers", queue=held) == 0


def test_health_and_ready_answer_while_redis_does(api):
    assert api.get("/health").json() == {"status": "ok"}
    assert api.get("/ready").json() == {"status": "ok"}


def test_ready_is_503_naming_redis_when_it_is_unreachable(configured):
    dead = free_port()
    wiring.configure(configured.replace(redis_url=f"redis://127.0.0.1:{dead}/0"))
    port = free_port()
    server, thread = _serve(port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert client.get("/health").status_code == 200
            reply = client.get("/ready")
            assert reply.status_code == 503
            body = reply.json()
            assert body["error"] == "RedisUnavailableError" and f"127.0.0.1:{dead}" in body["message"]
            assert client.get("/metrics").status_code == 503
    finally:
        server.should_exit = True
        thread.join(10)


def test_metrics_take_a_viewer_token_while_the_probes_need_none(configured):
    credentials = Credentials.of(tokens={"prometheus": ("viewer", "scrape-token")})
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(credentials), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 10)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert client.get("/metrics").status_code == 401
            scraped = client.get("/metrics", headers={"Authorization": "Bearer scrape-token"})
            assert scraped.status_code == 200 and "pipeline_queue_jobs" in scraped.text
            assert client.get("/health").status_code == 200
            assert client.get("/ready").status_code == 200
            assert client.get("/alerts").status_code == 401
    finally:
        server.should_exit = True
        thread.join(10)


def test_metrics_run_the_registered_dependencies_first_and_the_probes_do_not(configured):
    def viewer_only() -> None:
        raise HTTPException(status_code=401, detail="viewer token required")

    probes.METRICS_DEPENDENCIES.append(Depends(viewer_only))
    port = free_port()
    try:
        server, thread = _serve(port)
    finally:
        probes.METRICS_DEPENDENCIES.pop()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert client.get("/metrics").status_code == 401
            assert client.get("/health").status_code == 200
            assert client.get("/ready").status_code == 200
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_worker_serves_the_same_metrics_on_a_port_when_asked(
    worker_process, settings: Settings, queue_name
):
    port = free_port()
    q = Queue(queue_name, settings=settings)
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name, "PIPELINE_METRICS_PORT": str(port)})
    q.add("echo", {"x": 1}).wait_until_finished(20)

    def scrape() -> dict | None:
        try:
            return samples(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text)
        except httpx.HTTPError:
            return None

    found = wait_for(scrape, 20, interval=0.2, message="worker metrics port answers")
    assert value(found, "pipeline_queue_jobs", queue=queue_name, state="completed") == 1
    assert value(found, "pipeline_jobs_completed_total", queue=queue_name, name="echo") == 1
