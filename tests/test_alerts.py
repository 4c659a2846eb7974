"""Alerts: rules validated up front; evaluated by one of several schedulers; notified once per
firing and once per resolve, by email (a real SMTP server) and a signed webhook (a real receiver)."""

from __future__ import annotations

import http.server
import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from click.testing import CliRunner

from pipeline import Queue
from pipeline.alerts import AlertEngine, load_rules, parse_rules
from pipeline.alerts.signing import HEADER, sign, verify
from pipeline.api import create_app
from pipeline.cli import cli
from pipeline.errors import ConfigurationError
from pipeline.keys import AlertKeys
from tests.domain.servers import SmtpServer
from tests.support import LoggedProcess, free_port, unique, wait_for

SECRET = "s3cret-for-tests"


@dataclass
class Receiver:
    """A webhook receiver on loopback: refuses the first ``fail_first`` requests with a 503,
    then keeps every request whose signature checks out."""

    fail_first: int = 0
    accepted: list[dict] = field(default_factory=list)
    refused: int = 0
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self) -> http.server.HTTPServer:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    if receiver.fail_first > 0:
                        receiver.fail_first -= 1
                        receiver.refused += 1
                        self.send_response(503)
                    elif verify(SECRET, self.headers.get(HEADER, ""), body):
                        receiver.accepted.append(json.loads(body))
                        self.send_response(204)
                    else:
                        receiver.bad_signatures += 1
                        self.send_response(401)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    r = Receiver(fail_first=1)
    server = r.serve()
    yield r, f"http://127.0.0.1:{server.server_address[1]}/hooks/alerts"
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def test_two_schedulers_notify_each_firing_and_each_resolve_exactly_once(
    settings, worker_process, receiver, smtp, queue_name, client
):
    hook, url = receiver
    rules = [{"name": "payments-failing", "queue": queue_name, "kind": "failure_rate", "threshold": 0.5,
              "window_s": 60, "min_jobs": 2}]  # fmt: skip
    alert_env = {
        "PIPELINE_ALERT_RULES": json.dumps(rules),
        "PIPELINE_ALERT_INTERVAL_MS": "200",
        "PIPELINE_ALERT_EMAILS": "ops@example.com",
        "PIPELINE_ALERT_WEBHOOK_URL": url,
        "PIPELINE_ALERT_WEBHOOK_SECRET": SECRET,
        "REDIS_URL": settings.redis_url,
        "PIPELINE_NAMESPACE": settings.namespace,
    }
    # Given a worker for the failing queue, one for the notification queues, and two schedulers
    worker_process("tests.apps.basic", env={"TEST_QUEUE": queue_name})
    worker_process("pipeline.actors", queues=["email", "alerts"], env={**smtp.env(), **alert_env})
    schedulers = [
        LoggedProcess([sys.executable, "-m", "pipeline.cli", "scheduler"], alert_env) for _ in range(2)
    ]
    try:
        q = Queue(queue_name, settings=settings)
        # When the queue's failures cross the rule
        for _ in range(3):
            q.add("always-fails", {}, attempts=1)
        wait_for(lambda: q.get_failed_count() == 3, 20)

        # Then one email and one signed webhook say it fires (the webhook after one retry)
        wait_for(lambda: len(hook.accepted) == 1 and smtp.sink.count() == 1, 30, interval=0.1)
        assert hook.refused == 1 and hook.bad_signatures == 0
        firing = hook.accepted[0]
        assert (firing["alert"], firing["queue"], firing["status"]) == (
            "payments-failing",
            queue_name,
            "firing",
        )
        assert firing["value"] == 1.0 and firing["threshold"] == 0.5
        mail = smtp.sink.received[0]
        assert mail.rcpt_tos == ["ops@example.com"]
        assert mail.subject.startswith(f"[FIRING] payments-failing on queue {queue_name}")

        # And nothing more while it stays firing, however many evaluations pass
        engine = AlertEngine(load_rules(alert_env), settings=settings, client=client)
        evaluated = engine.states()[0].evaluated
        wait_for(lambda: engine.states()[0].evaluated > evaluated + 1000, 20, interval=0.1)
        assert len(hook.accepted) == 1 and smtp.sink.count() == 1

        # When successes bring the rate under the threshold, one resolve of each kind follows
        for i in range(10):
            q.add("echo", {"i": i})
        wait_for(lambda: len(hook.accepted) == 2 and smtp.sink.count() == 2, 30, interval=0.1)
        resolved = hook.accepted[1]
        assert resolved["status"] == "resolved" and resolved["value"] < 0.5
        assert smtp.sink.received[1].subject.startswith("[RESOLVED] payments-failing")
        evaluated = engine.states()[0].evaluated
        wait_for(lambda: engine.states()[0].evaluated > evaluated + 1000, 20, interval=0.1)
        assert len(hook.accepted) == 2 and smtp.sink.count() == 2
        assert client.get(AlertKeys.for_namespace(settings.namespace).leader) is not None
    finally:
        for scheduler in schedulers:
            scheduler.stop()
        keys = AlertKeys.for_namespace(settings.namespace)
        client.delete(keys.state, keys.samples, keys.leader)
    for name in ("email", "alerts"):
        Queue(name, settings=settings).obliterate(force=True)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ('{"queue": "q"}', "PIPELINE_ALERT_RULES: alert rules must be a list"),
        ('[{"queue": "q", "kind": "failures"}]', "rule 1: 'kind' must be one of failure_rate, queue_depth"),
        ('[{"queue": "q", "kind": "queue_depth"}]', "rule 1 ('queue_depth:q'): 'threshold' must be a number"),
        (
            '[{"queue": "q", "kind": "failure_rate", "threshold": 2}]',
            "failure_rate 'threshold' is a fraction in (0, 1], got 2.0",
        ),
        (
            '[{"queue": "q", "kind": "failure_rate", "threshold": 0.1, "window_s": 90}]',
            "'window_s' must be whole minutes",
        ),
        ('[{"queue": "q", "kind": "no_workers", "treshold": 1}]', "unknown field(s) ['treshold']"),
        ('[{"queue": "q", "kind": "no_workers"}, {"queue": "q", "kind": "no_workers"}]', "two alert rules"),
        ("[{", "PIPELINE_ALERT_RULES is not valid JSON"),
    ],
)
def test_bad_rules_are_refused_with_an_error_naming_the_rule_and_field(rules, message):
    with pytest.raises(ConfigurationError) as caught:
        load_rules({"PIPELINE_ALERT_RULES": rules})
    assert message in str(caught.value)


def test_rules_come_from_a_toml_or_json_file_too(tmp_path):
    path = tmp_path / "alerts.toml"
    path.write_text('[[rules]]\nqueue = "email"\nkind = "queue_depth"\nthreshold = 1000\n')
    [rule] = load_rules({"PIPELINE_ALERT_RULES_FILE": str(path)})
    assert (rule.name, rule.kind, rule.threshold) == ("queue_depth:email", "queue_depth", 1000.0)
    assert parse_rules([{"queue": "*", "kind": "stalled"}], "x")[0].threshold == 1


def test_alerts_check_prints_one_line_for_a_bad_rule_and_the_api_shows_rules_and_state(
    configured, make_queue, monkeypatch
):
    monkeypatch.setenv("PIPELINE_ALERT_RULES", '[{"queue": "q", "kind": "nope"}]')
    bad = CliRunner().invoke(cli, ["alerts", "check"])
    assert bad.exit_code == 1 and bad.output.count("\n") == 1 and "'kind' must be one of" in bad.output

    q = make_queue()
    q.add_bulk([{"name": "x", "data": {}} for _ in range(3)])
    rules = [{"name": "deep", "queue": q.name, "kind": "queue_depth", "threshold": 2},
             {"name": "idle", "queue": q.name, "kind": "no_workers"}]  # fmt: skip
    monkeypatch.setenv("PIPELINE_ALERT_RULES", json.dumps(rules))
    engine = AlertEngine(load_rules(), settings=configured)
    assert {s.rule for s in engine.evaluate()} == {"deep", "idle"}
    assert engine.evaluate() == []  # still firing: no new change

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 10)
        body = httpx.get(f"http://127.0.0.1:{port}/alerts", timeout=10).json()
    finally:
        server.should_exit = True
        thread.join(10)
    assert [r["name"] for r in body["rules"]] == ["deep", "idle"]
    assert {(s["rule"], s["status"], s["value"]) for s in body["firing"]} == {
        ("deep", "firing", 3.0),
        ("idle", "firing", 0.0),
    }
    shown = json.loads(CliRunner().invoke(cli, ["alerts", "--json"]).output)
    assert len(shown["states"]) == 2
    keys = AlertKeys.for_namespace(configured.namespace)
    engine.client.delete(keys.state, keys.samples, keys.leader)


def test_a_webhook_signature_checks_out_only_with_the_secret_the_body_and_a_fresh_time():
    body = b'{"alert": "x"}'
    header = sign(SECRET, body, timestamp=1_000_000)
    assert verify(SECRET, header, body, now=1_000_010)
    assert not verify("other", header, body, now=1_000_010)
    assert not verify(SECRET, header, body + b" ", now=1_000_010)
    assert not verify(SECRET, header, body, now=1_000_000 + 3600)
    assert not verify(SECRET, "garbage", body)


def test_only_one_process_holds_the_evaluation_lease(settings, client):
    a = AlertEngine([], settings=settings, client=client, holder=unique("a"))
    b = AlertEngine([], settings=settings, client=client, holder=unique("b"))
    assert a.lead() and not b.lead() and a.lead()
    a.step_down()
    assert b.lead() and not a.lead()
    b.step_down()


def test_oldest_waiting_and_stalled_rules_fire_on_the_queue_s_real_figures(settings, client, make_queue):
    q = make_queue()
    q.add("x", {})
    fetched, *_ = q.store.fetch(1, 1)  # a worker takes it with a 1 ms lock, then is gone
    assert len(fetched) == 1
    q.add("y", {})  # and this one waits
    rules = parse_rules(
        [
            {"name": "old", "queue": q.name, "kind": "oldest_waiting", "threshold": 0.002},
            {"name": "stalls", "queue": q.name, "kind": "stalled", "threshold": 1, "window_s": 600},
        ],
        "test",
    )
    engine = AlertEngine(rules, settings=settings, client=client, holder=unique("h"))
    wait_for(lambda: (q.get_metrics("completed", 0, 0).oldest_waiting_age_ms or 0) >= 3, 10)
    assert [(s.rule, s.status) for s in engine.evaluate()] == [("old", "firing")]  # nothing swept yet
    wait_for(lambda: q.store.reclaim_stalled(1, 1), 10, interval=0.05)
    assert [(s.rule, s.status, s.value) for s in engine.evaluate()] == [("stalls", "firing", 1.0)]
    keys = AlertKeys.for_namespace(settings.namespace)
    client.delete(keys.state, keys.samples, keys.leader)
