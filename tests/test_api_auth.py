"""Who may use the API: tokens, console sessions with CSRF tokens, roles, the audit log."""

from __future__ import annotations

import subprocess
import sys
from contextlib import closing

import httpx
import pytest

from pipeline.api.auth import Credentials, Role, hash_password, refuse_unprotected
from pipeline.errors import ConfigurationError
from pipeline.queue import Queue
from tests.api_support import concrete, routes
from tests.conftest import API_TOKENS, API_USERS

#: Every mutating route and the least role allowed to use it.  The test below fails when a
#: route is added without being listed here, so no route escapes the role check.
MUTATING = {
    ("POST", "/queues/{queue}/jobs"): "admin",
    ("POST", "/queues/{queue}/jobs/{job_id}/retry"): "operator",
    ("POST", "/queues/{queue}/jobs/{job_id}/promote"): "operator",
    ("POST", "/queues/{queue}/jobs/{job_id}/cancel"): "operator",
    ("DELETE", "/queues/{queue}/jobs/{job_id}"): "operator",
    ("POST", "/queues/{queue}/pause"): "operator",
    ("POST", "/queues/{queue}/resume"): "operator",
    ("DELETE", "/queues/{queue}/clean"): "operator",
    ("DELETE", "/queues/{queue}/waiting"): "admin",
    ("POST", "/queues/{queue}/promote-all"): "operator",
    ("POST", "/queues/{queue}/retry-failed"): "operator",
    ("DELETE", "/queues/{queue}"): "admin",
    ("DELETE", "/queues/{queue}/repeats/{key}"): "admin",
    ("PUT", "/queues/{queue}/rate-limit"): "admin",
    ("DELETE", "/queues/{queue}/rate-limit"): "admin",
}
#: Routes anyone may call: the login page and the login itself (the static files are mounts).
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/auth/login"),
    ("GET", "/auth/session"),
    ("GET", "/health"),  # probes: orchestrators ask without credentials
    ("GET", "/ready"),
}
ROLES = ("viewer", "operator", "admin")


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {API_TOKENS[role]}"}


def login(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=10)
    response = client.post("/auth/login", json={"name": name, "password": API_USERS[name][1]})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf"]
    return client


def test_every_mutating_route_is_listed_with_its_role():
    mutating = {(m, p) for m, p in routes() if m not in ("GET", "HEAD") and (m, p) not in PUBLIC}
    assert mutating - {("POST", "/auth/logout")} == set(MUTATING)


def test_every_route_but_the_public_ones_refuses_a_request_without_credentials(api_server, queue_name):
    Queue(queue_name).add("x", {})
    base = api_server()
    with httpx.Client(base_url=base, timeout=10) as anonymous:
        for method, path in routes():
            if (method, path) in PUBLIC:
                continue
            response = anonymous.request(method, concrete(path, queue_name))
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"] == "NotAuthenticatedError"
            assert response.headers["www-authenticate"] == "Bearer"
        for page in ("/", "/docs", "/redoc"):
            assert anonymous.get(page).status_code == 401
        wrong = anonymous.get("/queues", headers={"Authorization": "Bearer not-a-token-of-ours"})
        assert wrong.status_code == 401
        assert anonymous.get("/login").status_code == 200
        assert anonymous.get("/static/login.js").status_code == 200


def test_a_role_below_the_routes_is_refused_with_403(api_server, queue_name):
    Queue(queue_name).add("x", {})
    base = api_server()
    with httpx.Client(base_url=base, timeout=10) as client:
        for (method, path), needed in MUTATING.items():
            for role in ROLES[: ROLES.index(needed)]:
                response = client.request(method, concrete(path, queue_name), headers=bearer(role), json={})
                assert response.status_code == 403, (method, path, role, response.text)
                assert needed in response.json()["message"]
        for method, path in routes():
            if method == "GET" and path != "/live":
                response = client.get(concrete(path, queue_name), headers=bearer("viewer"))
                assert response.status_code != 403, (path, response.text)


def test_a_console_session_needs_its_csrf_token_for_every_change(api_server, queue_name):
    q = Queue(queue_name)
    q.add("x", {})
    base = api_server()
    with closing(login(base, "otto")) as session:
        cookie = session.cookies.get("pipeline_session")
        assert cookie and session.get("/queues").status_code == 200
        without = httpx.post(f"{base}/queues/{queue_name}/pause", cookies={"pipeline_session": cookie})
        assert without.status_code == 403 and "X-CSRF-Token" in without.json()["message"]
        wrong = httpx.post(
            f"{base}/queues/{queue_name}/pause",
            cookies={"pipeline_session": cookie},
            headers={"X-CSRF-Token": "guessed"},
        )
        assert wrong.status_code == 403
        other_origin = session.post(f"/queues/{queue_name}/pause", headers={"Origin": "http://evil.example"})
        assert other_origin.status_code == 403
        assert not q.is_paused()
        assert session.post(f"/queues/{queue_name}/pause").status_code == 200 and q.is_paused()
        assert session.post(f"/queues/{queue_name}/jobs", json={"name": "y"}).status_code == 403  # operator


def test_the_session_cookie_is_httponly_strict_and_secure_over_tls(api_server):
    base = api_server()
    plain = httpx.post(f"{base}/auth/login", json={"name": "vera", "password": API_USERS["vera"][1]})
    flags = plain.headers["set-cookie"].lower()
    assert "httponly" in flags and "samesite=strict" in flags and "secure" not in flags
    # Behind a TLS-terminating proxy on loopback, uvicorn takes the scheme from X-Forwarded-Proto.
    tls = httpx.post(
        f"{base}/auth/login",
        json={"name": "vera", "password": API_USERS["vera"][1]},
        headers={"X-Forwarded-Proto": "https", "Origin": base.replace("http:", "https:")},
    )
    assert tls.status_code == 200 and "secure" in tls.headers["set-cookie"].lower()


def test_logout_ends_the_session_even_for_a_copied_cookie(api_server):
    base = api_server()
    with closing(login(base, "vera")) as session:
        cookie = session.cookies.get("pipeline_session")
        assert session.post("/auth/logout").status_code == 200
    copied = httpx.get(f"{base}/queues", cookies={"pipeline_session": cookie})
    assert copied.status_code == 401


def test_failed_logins_are_rate_limited_even_for_the_right_password(api_server):
    base = api_server()
    for _ in range(5):
        assert httpx.post(f"{base}/auth/login", json={"name": "ada", "password": "wrong"}).status_code == 401
    locked = httpx.post(f"{base}/auth/login", json={"name": "ada", "password": API_USERS["ada"][1]})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert locked.json()["error"] == "TooManyLoginsError"
    other = httpx.post(f"{base}/auth/login", json={"name": "otto", "password": API_USERS["otto"][1]})
    assert other.status_code == 200
    unknown = httpx.post(f"{base}/auth/login", json={"name": "nobody", "password": "whatever-it-is"})
    assert unknown.status_code == 401 and unknown.json()["message"] == "wrong name or password"


def test_every_change_is_in_the_audit_log_with_who_and_outcome(api_server, queue_name):
    q = Queue(queue_name)
    job = q.add("x", {})
    base = api_server()
    with httpx.Client(base_url=base, timeout=10) as client:
        client.post(f"/queues/{queue_name}/jobs/{job.id}/cancel", headers=bearer("operator"))
        client.post(f"/queues/{queue_name}/jobs/{job.id}/promote", headers=bearer("operator"))
        client.delete(f"/queues/{queue_name}/waiting", headers=bearer("viewer"))
        entries = client.get("/audit", headers=bearer("viewer")).json()
    got = [(e["who"], e["role"], e["action"], e["queue"], e["job"], e["outcome"]) for e in entries[:3]]
    assert got == [
        ("viewer-bot", "viewer", "empty", queue_name, "", "forbidden"),
        ("operator-bot", "operator", "promote_job", queue_name, job.id, "JobStateError"),
        ("operator-bot", "operator", "cancel_job", queue_name, job.id, "ok"),
    ]
    assert all(e["at"] > 0 for e in entries)


def test_with_no_credentials_reads_are_open_and_changes_still_need_a_csrf_token(api_server, queue_name):
    q = Queue(queue_name)
    q.add("x", {})
    base = api_server(Credentials())
    assert httpx.get(f"{base}/queues").status_code == 200
    assert httpx.post(f"{base}/queues/{queue_name}/pause").status_code == 403  # a cross-site form gets this
    with httpx.Client(base_url=base, timeout=10) as browser:
        csrf = browser.get("/auth/session").json()["csrf"]
        assert browser.post(f"/queues/{queue_name}/pause", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert q.is_paused()


def test_credentials_come_from_the_environment_or_a_file(tmp_path, settings):
    password_hash = hash_password("correct horse")
    creds_file = tmp_path / "creds.toml"
    creds_file.write_text(
        f'[[tokens]]\nname = "ci"\nrole = "admin"\ntoken = "{"t" * 32}"\n'
        f'[[users]]\nname = "bo"\nrole = "operator"\npassword_hash = "{password_hash}"\n'
    )
    loaded = Credentials.from_settings(
        settings.replace(
            api_tokens=f"graf:viewer:{'g' * 20}; deploy:operator:{'d' * 20}",
            api_users=f"eve:admin:{password_hash}",
            api_credentials_file=str(creds_file),
        )
    )
    assert loaded.check_token("g" * 20).role.label == "viewer"
    assert loaded.check_token("t" * 32).name == "ci"
    assert loaded.check_token("g" * 19) is None
    assert loaded.check_password("bo", "correct horse") == ("bo", Role.OPERATOR)
    assert loaded.check_password("eve", "wrong horse") is None

    for bad, says in [
        ({"api_tokens": "graf:viewer"}, "name:role:token"),
        ({"api_tokens": f"graf:root:{'g' * 20}"}, "unknown role 'root'"),
        ({"api_tokens": "graf:viewer:short"}, "shorter than 16"),
        ({"api_users": "eve:admin:plaintext"}, "argon2 hash"),
        ({"api_credentials_file": str(tmp_path / "missing.toml")}, "cannot read it"),
    ]:
        with pytest.raises(ConfigurationError, match=says):
            Credentials.from_settings(settings.replace(**bad))


def test_the_api_refuses_to_serve_a_public_address_without_credentials(tmp_path):
    with pytest.raises(ConfigurationError, match="PIPELINE_API_TOKENS"):
        refuse_unprotected("0.0.0.0", Credentials(), allow_unauthenticated=False)
    refuse_unprotected("0.0.0.0", Credentials(), allow_unauthenticated=True)
    refuse_unprotected("127.0.0.1", Credentials(), allow_unauthenticated=False)
    refuse_unprotected("::1", Credentials(), allow_unauthenticated=False)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIPELINE_API_TOKENS": ""}
    run = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "api", "--host", "0.0.0.0", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "--allow-unauthenticated" in lines[0] and "PIPELINE_API_TOKENS" in lines[0]


def test_with_no_credentials_a_request_to_a_host_name_is_refused_against_dns_rebinding(api_server):
    base = api_server(Credentials())
    assert httpx.get(f"{base}/queues").status_code == 200
    assert httpx.get(f"{base.replace('127.0.0.1', 'localhost')}/queues").status_code == 200
    rebound = httpx.get(f"{base}/queues", headers={"Host": "attacker.example:8080"})
    assert rebound.status_code == 403 and "host name" in rebound.json()["message"]
    assert httpx.get(f"{base}/auth/session", headers={"Host": "attacker.example"}).status_code == 403
