"""Fixtures of the domain tests: real SMTP and S3 servers on loopback, a scratch database."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import OperationalError

from actors.campaigns.db import Database
from actors.storage import LocalStorage, S3Storage
from tests.domain.servers import AWS_TEST_CREDENTIALS, S3Server, SmtpServer
from tests.support import WorkerProcess, unique


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


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The campaign database on SQLite (always) and PostgreSQL (when one answers), each test its own."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'campaigns.db'}")
        yield db
        db.dispose()
        return
    url = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = unique("t").replace("-", "_")
    admin = _postgres_or_skip(url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    db = Database(f"{url}?options=-csearch_path%3D{schema}")
    try:
        yield db
    finally:
        db.dispose()
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def _postgres_or_skip(url: str) -> Engine:
    pytest.importorskip("psycopg")
    engine = create_engine(url)
    try:
        engine.connect().close()
    except OperationalError as exc:
        engine.dispose()
        pytest.skip(f"no PostgreSQL at {engine.url.render_as_string(hide_password=True)}: {exc}")
    return engine


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "store")


@pytest.fixture
def domain_env(smtp_server: SmtpServer, local_store: LocalStorage, tmp_path: Path) -> dict[str, str]:
    """The environment of a worker wired to this test's SMTP server, local store and SQLite file."""
    return {
        **smtp_server.env(),
        "SMTP_TIMEOUT_S": "5",
        "MAIL_FROM": "app@example.com",
        "STORAGE_BACKEND": "local",
        "STORAGE_DIR": str(local_store.root),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
    }


@pytest.fixture
def domain_worker(
    worker_process: Callable[..., WorkerProcess], domain_env: dict[str, str]
) -> Callable[..., WorkerProcess]:
    """Start ``dramatiq pipeline.actors`` (every domain actor) with ``domain_env`` plus ``env``."""

    def start(threads: int = 4, env: dict[str, str] | None = None) -> WorkerProcess:
        return worker_process("pipeline.actors", threads=threads, env={**domain_env, **(env or {})})

    return start
