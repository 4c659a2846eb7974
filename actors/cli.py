"""The domain's commands of ``pipeline``, registered as ``pipeline.commands`` entry points."""

from __future__ import annotations

import click

from actors import settings
from actors.storage import LocalStorage, S3Storage, storage_from_settings


@click.command("storage-init")
def storage_init() -> None:
    """Create the file store's bucket (S3) or directory (local) unless it exists; safe to rerun."""
    storage = storage_from_settings(settings.get_settings())
    if isinstance(storage, S3Storage):
        created = storage.ensure_bucket()
        where = storage.endpoint_url or "AWS S3"
        click.echo(f"Bucket {storage.bucket!r} on {where}: " + ("created." if created else "already there."))
    elif isinstance(storage, LocalStorage):
        storage.root.mkdir(parents=True, exist_ok=True)
        click.echo(f"Local storage directory {storage.root} is ready.")
