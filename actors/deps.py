"""The clients actors use, built from the process's settings on first use (never at import).

Each getter returns the same client for the same settings, so a worker thread
reuses one S3 client or SQL engine instead of building one per job.
"""

from __future__ import annotations

import functools

from actors import settings as domain_settings
from actors.campaigns.db import Database
from actors.email.mailer import Mailer
from actors.settings import DomainSettings
from actors.storage import Storage, storage_from_settings


def settings() -> DomainSettings:
    """The domain's settings of this process (``SMTP_*``, ``STORAGE_*``, ``S3_*``, ...)."""
    return domain_settings.get_settings()


def mailer() -> Mailer:
    """The SMTP mailer of the current settings (``SMTP_*``, ``MAIL_FROM``)."""
    return _mailer(settings())


def storage() -> Storage:
    """The file store of the current settings (``STORAGE_BACKEND``, ``STORAGE_DIR``, ``S3_*``)."""
    return storage_from_settings(settings())


def database() -> Database:
    """The campaign database of the current settings (``DATABASE_URL``)."""
    return Database.from_settings(settings())


@functools.cache
def _mailer(settings: DomainSettings) -> Mailer:
    return Mailer.from_settings(settings)
