"""With Redis unreachable every route answers 503 in the one error shape, and recovers by itself."""

from __future__ import annotations

import shutil
import tempfile

import httpx

from pipeline import wiring
from pipeline.queue import Queue
from tests.api_support import concrete, routes, start_redis
from tests.conftest import API_TOKENS
from tests.support import free_port, unique


def test_every_route_is_a_503_while_redis_is_down_and_works_again_after(settings, api_server):
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="pipeline-api-redis-")
    server = start_redis(port, data_dir)
    try:
        # One quick retry per call (not three, backing off 0.7 s in all): each 503 comes sooner.
        url = f"redis://127.0.0.1:{port}/0"
        down = settings.replace(redis_url=url, namespace=unique("ns"), redis_retries=1)
        wiring.configure(down)
        queue = unique("q")
        Queue(queue).add("x", {})
        base = api_server()
        auth = {"Authorization": f"Bearer {API_TOKENS['admin']}"}
        with httpx.Client(base_url=base, headers=auth, timeout=10) as client:
            assert client.get("/queues").status_code == 200
            server.terminate()
            server.wait(10)
            for method, path in routes():
                if path in ("/auth/logout", "/auth/session", "/openapi.json", "/health"):
                    continue  # these read and write nothing in Redis (/health: the process is up)
                valid = {"name": "x", "password": "y", "max": 1, "duration": 1000}  # fits every body schema
                response = client.request(method, concrete(path, queue), json=valid)
                assert response.status_code == 503, (method, path, response.text)
                body = response.json()
                assert body["error"] == "RedisUnavailableError" and f"127.0.0.1:{port}" in body["message"]
            server = start_redis(port, data_dir)
            assert client.get("/queues").status_code == 200
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(data_dir, ignore_errors=True)
