"""Fixtures of the domain tests: real SMTP and S3 servers on loopback, a scratch database."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from actors.storage import S3Storage
from tests.domain.servers import AWS_TEST_CREDENTIALS, S3Server, SmtpServer
from tests.support import unique


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AWS_TEST_CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3_bucket(s3_server: S3Server, aws_credentials: None) -> str:
    """A new, empty bucket on the loopback S3 server (each test its own)."""
    name = unique("bucket")
    boto3.client("s3", endpoint_url=s3_server.endpoint_url, region_name="us-east-1").create_bucket(
        Bucket=name
    )
    return name


@pytest.fixture
def s3_storage(s3_server: S3Server, s3_bucket: str) -> S3Storage:
    return S3Storage(s3_bucket, endpoint_url=s3_server.endpoint_url)
