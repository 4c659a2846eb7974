"""The console in Debian's headless Chromium, driven by Playwright (the system browser: no download).

Screenshots go to ``PIPELINE_TEST_ARTIFACTS`` (default ``var/test-artifacts``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pipeline.queue import Queue
from tests.conftest import API_USERS
from tests.support import wait_for

CHROMIUM = os.environ.get("PIPELINE_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("PIPELINE_TEST_ARTIFACTS", "var/test-artifacts"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, api_server) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    # Asks for api_server so the browser (and its event stream) closes before the servers stop.
    context = browser.new_context()
    p = context.new_page()
    p.set_default_timeout(15_000)
    p.on("dialog", lambda dialog: dialog.accept())  # the confirmations of destructive actions
    yield p
    context.close()


def log_in(page: Page, base: str, name: str) -> None:
    page.goto(base + "/")
    page.wait_for_url(re.compile(r"/login$"))
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", API_USERS[name][1])
    page.click("button[type=submit]")
    expect(page.locator("#who")).to_contain_text(f"{name} ({API_USERS[name][0]})")


def count_cell(page: Page, queue: str, state: str):  # type: ignore[no-untyped-def]
    return page.locator(f'#queues tr[data-queue="{queue}"] td[data-state="{state}"]')


def test_an_operator_logs_in_and_sees_counts_change_live_as_jobs_run(
    page, api_server, queue_name, settings, worker_process
):
    q = Queue(queue_name)
    q.add_bulk([{"name": "echo", "data": {"i": i}} for i in range(5)])
    base = api_server()
    log_in(page, base, "otto")
    expect(count_cell(page, queue_name, "waiting")).to_have_text("5")
    page.evaluate("window.notReloaded = true")

    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})

    expect(count_cell(page, queue_name, "completed")).to_have_text("5", timeout=30_000)
    expect(count_cell(page, queue_name, "waiting")).to_have_text("0")
    assert page.evaluate("window.notReloaded") is True  # the same page, updated by the event stream
    expect(page.locator("#live")).to_have_text("● live")


def test_a_failed_jobs_page_shows_its_stack_trace_and_logs(page, api_server, queue_name, worker_process):
    q = Queue(queue_name)
    job = q.add("always-fails", {}, attempts=1)
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    wait_for(lambda: q.get_job(job.id).state == "failed", 30, message="job failed")
    for i in range(3):
        q.add_job_log(job.id, f"step {i} of the order")
    base = api_server()
    log_in(page, base, "vera")

    page.click(f"text={queue_name}")
    page.click("#states a[data-state=failed]")
    page.click(f"#jobs a:text('{job.id}')")

    expect(page.locator("#job-title")).to_contain_text(f"always-fails · {job.id} · failed")
    expect(page.locator("#job-reason")).to_have_text("boom: the handler gave up")
    expect(page.locator("#job-stacktraces pre").first).to_contain_text("ValueError: boom")
    expect(page.locator("#job-logs")).to_have_text(
        "step 0 of the order\nstep 1 of the order\nstep 2 of the order"
    )
    expect(page.locator("#job-data")).to_have_text("{}")
    expect(page.locator("#job-timeline")).to_contain_text("finished")
    expect(page.locator("#job-actions button:text('retry')")).to_be_disabled()  # a viewer's page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "job-page.png"), full_page=True)


def test_paging_reaches_the_last_page_of_ten_thousand_jobs(page, api_server, queue_name):
    q = Queue(queue_name)
    for start in range(0, 10_000, 2_000):
        q.add_bulk([{"name": "bulk", "data": {"i": i}} for i in range(start, start + 2_000)])
    base = api_server()
    log_in(page, base, "vera")
    page.click(f"text={queue_name}")
    expect(page.locator("#pager .page-info")).to_contain_text("page 1 of 200 (10000 jobs)")

    page.click("#pager button:text('last »')")

    expect(page.locator("#pager .page-info")).to_contain_text("page 200 of 200 (10000 jobs)")
    expect(page.locator("#jobs tbody tr")).to_have_count(50)
    expect(page.locator("#jobs tbody tr").last.locator("pre")).to_have_text('{"i":0}')


def test_an_operator_promotes_a_delayed_job_retries_all_failed_and_pauses_the_queue(
    page, api_server, queue_name
):
    q = Queue(queue_name)
    job = q.add("later", {}, delay=3_600_000)
    failed = [q.add("x", {}) for _ in range(3)]
    for f in failed:
        q.cancel_job(f.id, "failed for the test")
    base = api_server()
    log_in(page, base, "otto")
    page.click(f"text={queue_name}")
    page.click("#states a[data-state=delayed]")

    page.click(f"#jobs tr[data-job='{job.id}'] button:text('promote')")
    wait_for(lambda: q.get_job(job.id).state == "waiting", 10, message="promoted")
    expect(page.locator("#status")).to_have_text("Job promoted")

    page.click("#queue-actions button:text('Retry all failed')")  # the confirmation is accepted
    expect(page.locator("#status")).to_have_text("Retried 3 failed job(s)")
    assert q.get_job_counts("failed")["failed"] == 0
    expect(page.locator("#states a[data-state=failed]")).to_have_text("failed (0)")

    page.click("#queue-actions button:text('Pause')")
    wait_for(q.is_paused, 10, message="paused")
    expect(page.locator("#queue-title")).to_have_text(f"{queue_name} (paused)")
    expect(page.locator("#queue-actions button:text('Empty')")).to_be_disabled()  # admin only


def test_a_page_on_another_origin_cannot_change_anything(page, api_server, queue_name):
    q = Queue(queue_name)
    job = q.add("x", {})
    q.cancel_job(job.id, "failed for the test")
    base = api_server()
    log_in(page, base, "ada")
    attacker = base.rsplit(":", 1)[0] + ":1"  # same site (127.0.0.1), another origin: the cookie goes along
    attack = f"""<!doctype html><title>attack</title>
<form id="f" method="post" action="{base}/queues/{queue_name}/pause"></form>
<script>
fetch("{base}/queues/{queue_name}/jobs/{job.id}/retry",
      {{method: "POST", mode: "no-cors", credentials: "include"}})
  .then(() => {{ document.title = "fetched"; }}, () => {{ document.title = "fetched"; }});
</script>"""
    page.route(
        f"{attacker}/attack", lambda route: route.fulfill(status=200, content_type="text/html", body=attack)
    )
    page.goto(f"{attacker}/attack")
    expect(page).to_have_title("fetched")
    page.evaluate("document.getElementById('f').submit()")
    page.wait_for_url(f"{base}/queues/{queue_name}/pause")

    assert "ForbiddenError" in page.content()
    assert not q.is_paused()
    assert q.get_job(job.id).state == "failed"
