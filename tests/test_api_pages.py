"""The console's pages and the API docs: served from the API's own origin, under a strict CSP."""

from __future__ import annotations

import re


def test_the_console_and_docs_load_nothing_from_another_origin(api):
    page = api.get("/")
    assert page.status_code == 200 and "<title>Queues</title>" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "<script>" not in page.text and "innerHTML" not in api.get("/static/dashboard.js").text
    for path in ("/", "/docs", "/redoc", "/login"):
        html = api.get(path).text
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), path
        for asset in re.findall(r"""(?:src|href)="([^"#]+)\"""", html):
            assert api.get("/" + asset).status_code == 200, asset
    assert "SwaggerUIBundle" in api.get("/docs-assets/swagger-ui-bundle.js").text
    assert api.get("/openapi.json").json()["components"]["schemas"]["Error"]
