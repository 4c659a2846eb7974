"""The domain's settings (mail, file store, campaign database), read from the environment.

The core's settings (Redis, the queues, the API) are ``pipeline.settings``; these
are read with the same helpers, so a bad value is the same one line
(``SMTP_PORT must be an integer, got 'x'``).  Like the core's, they are read
once per process on first use, never at import; a worker reads them when it
starts (``actors.worker``), and ``pipeline up`` checks them before it starts
anything (the ``pipeline.settings`` entry point, :func:`check`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from pipeline.errors import ConfigurationError
from pipeline.settings import env_bool, env_int, env_list, env_str


@dataclass(frozen=True)
class DomainSettings:
    """The domain's configuration.  Build it with :meth:`from_env`.

    Attributes:
        smtp_host, smtp_port: the outgoing mail server (``SMTP_HOST``, ``SMTP_PORT``).
        smtp_user, smtp_password: its login (``SMTP_USER``, ``SMTP_PASSWORD``); none when empty.
        smtp_starttls, smtp_tls: STARTTLS, or TLS from the first byte (``SMTP_STARTTLS``, ``SMTP_TLS``).
        smtp_timeout_s: socket timeout of every SMTP command (``SMTP_TIMEOUT_S``).
        mail_from: the sender address (``MAIL_FROM``).
        staff_emails: who is emailed when a user registers (``STAFF_EMAILS``, comma-separated).
        storage_backend: ``local`` (files under ``storage_dir``, ``STORAGE_DIR``) or ``s3``
            (``STORAGE_BACKEND``).
        s3_*: bucket, endpoint (any S3-compatible server), region, and the public endpoint
            presigned URLs are signed for (``S3_PUBLIC_ENDPOINT_URL``, default: the endpoint);
            ``s3_presign_expiry_s`` how long a presigned URL works (``S3_PRESIGN_EXPIRY_S``).
        database_url: SQLAlchemy URL of the campaign database (``DATABASE_URL``).
    """

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_timeout_s: int = 30
    mail_from: str = "no-reply@example.com"
    staff_emails: tuple[str, ...] = ()
    storage_backend: str = "local"
    storage_dir: str = "var/storage"
    s3_bucket: str = "pipeline"
    s3_endpoint_url: str = ""
    s3_public_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_presign_expiry_s: int = 3600
    database_url: str = "sqlite:///var/pipeline.db"

    @classmethod
    def from_env(cls) -> DomainSettings:
        backend = env_str("STORAGE_BACKEND", cls.storage_backend).lower()
        if backend not in {"local", "s3"}:
            raise ConfigurationError(f"STORAGE_BACKEND must be 'local' or 's3', got {backend!r}")
        # The defaults are the fields' own, written once above.
        return cls(
            smtp_host=env_str("SMTP_HOST", cls.smtp_host),
            smtp_port=env_int("SMTP_PORT", cls.smtp_port, minimum=1),
            smtp_user=env_str("SMTP_USER", cls.smtp_user),
            smtp_password=env_str("SMTP_PASSWORD", cls.smtp_password),
            smtp_starttls=env_bool("SMTP_STARTTLS", cls.smtp_starttls),
            smtp_tls=env_bool("SMTP_TLS", cls.smtp_tls),
            smtp_timeout_s=env_int("SMTP_TIMEOUT_S", cls.smtp_timeout_s, minimum=1),
            mail_from=env_str("MAIL_FROM", cls.mail_from),
            staff_emails=env_list("STAFF_EMAILS"),
            storage_backend=backend,
            storage_dir=env_str("STORAGE_DIR", cls.storage_dir),
            s3_bucket=env_str("S3_BUCKET", cls.s3_bucket),
            s3_endpoint_url=env_str("S3_ENDPOINT_URL", cls.s3_endpoint_url),
            s3_public_endpoint_url=env_str("S3_PUBLIC_ENDPOINT_URL", cls.s3_public_endpoint_url),
            s3_region=env_str("S3_REGION", env_str("AWS_DEFAULT_REGION", cls.s3_region)),
            s3_presign_expiry_s=env_int("S3_PRESIGN_EXPIRY_S", cls.s3_presign_expiry_s, minimum=1),
            database_url=env_str("DATABASE_URL", cls.database_url),
        )


_lock = threading.Lock()
_settings: DomainSettings | None = None


def get_settings() -> DomainSettings:
    """This process's domain settings, read from the environment on first use."""
    global _settings
    with _lock:
        if _settings is None:
            _settings = DomainSettings.from_env()
        return _settings


def check() -> None:
    """Read the environment's domain settings, raising :class:`ConfigurationError` on a bad value."""
    DomainSettings.from_env()
