"""The console with a big queue: first paint and a page change, in headless Chromium.

    python bench/console.py                  # 100,000 waiting jobs in one queue
    python bench/console.py --jobs 20000 --check

First paint is from navigation to the first page of jobs on screen (login done
beforehand); a page change is from the click on "last »" to the last page on
screen.  Each is the median of ``--rounds`` tries.  Target: each under 1 s.  Uses
its own namespace and deletes only its keys at the end; never flushes Redis.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import redis
import uvicorn
from playwright.sync_api import sync_playwright

from pipeline import wiring
from pipeline.api import create_app
from pipeline.api.auth import Credentials
from pipeline.queue import Queue
from pipeline.settings import Settings

TARGET_S = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    namespace = f"bc{uuid.uuid4().hex[:7]}"
    settings = Settings.from_env().replace(redis_url=args.redis_url, namespace=namespace, redis_explicit=True)
    wiring.configure(settings)
    queue = Queue("console-bench")
    try:
        for start in range(0, args.jobs, 5_000):
            n = min(5_000, args.jobs - start)
            queue.add_bulk(
                [
                    {"name": "bulk", "data": {"i": i, "email": "a@example.com"}}
                    for i in range(start, start + n)
                ]
            )
        print(f"{args.jobs} waiting jobs in queue {queue.name!r} (namespace {namespace})")
        creds = Credentials.of(users={"bench": ("viewer", "bench-password")})
        server = uvicorn.Server(
            uvicorn.Config(create_app(creds), host="127.0.0.1", port=0, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        first_paint, page_change = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(base + "/login")
            page.fill("input[name=name]", "bench")
            page.fill("input[name=password]", "bench-password")
            page.click("button[type=submit]")
            page.wait_for_selector("#who:has-text('bench')")
            url = f"{base}/#queue={queue.name}&state=waiting"
            pages = (args.jobs + 49) // 50
            for _ in range(args.rounds):
                began = time.perf_counter()
                page.goto("about:blank")
                page.goto(url)
                page.wait_for_selector(f"#pager .page-info:has-text('page 1 of {pages}')")
                page.wait_for_selector("#jobs tbody tr")
                first_paint.append(time.perf_counter() - began)
                began = time.perf_counter()
                page.click("#pager button:text('last »')")
                page.wait_for_selector(f"#pager .page-info:has-text('page {pages} of {pages}')")
                page_change.append(time.perf_counter() - began)
            browser.close()
        server.should_exit = True
        thread.join(10)
    finally:
        client = redis.Redis.from_url(args.redis_url)
        for key in client.scan_iter(match=f"{namespace}:*", count=1000):
            client.delete(key)
    ok = True
    for label, samples in (("first paint", first_paint), ("page change", page_change)):
        median = statistics.median(samples)
        met = median < TARGET_S
        ok &= met
        print(
            f"{label:<12} median {median * 1000:7.1f} ms  (max {max(samples) * 1000:.1f} ms)  "
            f"target < {TARGET_S * 1000:.0f} ms: {'met' if met else 'MISSED'}"
        )
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
