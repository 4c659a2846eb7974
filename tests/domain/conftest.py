"""Fixtures of the domain tests: real SMTP and S3 servers on loopback, a scratch database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.domain.servers import SmtpServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()
