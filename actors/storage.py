"""Where files live: a local directory (the embedded default) or any S3-compatible store.

Both backends take the same keys (``images/<id>/original``).  A key is checked
before use so that job data can never name a path outside the store.  The S3
client is built on first use, never at import, and uploads go through boto3's
transfer manager, which switches to a multipart upload for large files.
"""

from __future__ import annotations

import functools
import io
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from actors.errors import InvalidStorageKeyError, ObjectNotFoundError, StorageError
from actors.settings import DomainSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_KEY_LENGTH = 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")
_MISSING = {"404", "NoSuchKey", "NotFound"}


def validate_key(key: object) -> str:
    """Return ``key`` if it is a safe relative key (``a/b/c``), else raise :class:`InvalidStorageKeyError`."""
    if not isinstance(key, str) or not key:
        raise InvalidStorageKeyError(repr(key), "must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidStorageKeyError(key[:40] + "...", f"longer than {MAX_KEY_LENGTH} characters")
    if _CONTROL.search(key):
        raise InvalidStorageKeyError(key, "contains a control character or a backslash")
    if key.startswith("/"):
        raise InvalidStorageKeyError(key, "must be relative")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise InvalidStorageKeyError(key, "has an empty, '.' or '..' segment")
    return key


class Storage(Protocol):
    """What the pipelines need from a file store."""

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Store ``data`` under ``key``, replacing what was there."""
        ...

    def put_file(self, key: str, fileobj: BinaryIO, content_type: str = "application/octet-stream") -> None:
        """Store the rest of ``fileobj`` under ``key`` (streamed; large files go up in parts)."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; raises :class:`ObjectNotFoundError`."""
        ...

    def exists(self, key: str) -> bool:
        """Whether something is stored under ``key``."""
        ...

    def url(self, key: str, expires_s: int = 3600) -> str:
        """A URL that reads ``key`` (presigned and expiring for S3)."""
        ...


class LocalStorage:
    """Files under one directory; writes are atomic (a reader never sees half a file)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.put_file(key, io.BytesIO(data), content_type)

    def put_file(self, key: str, fileobj: BinaryIO, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as out:
                    while chunk := fileobj.read(1 << 20):
                        out.write(chunk)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(key, str(exc)) from exc

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise ObjectNotFoundError(key) from None
        except OSError as exc:
            raise StorageError(key, str(exc)) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def url(self, key: str, expires_s: int = 3600) -> str:
        return self._path(key).as_uri()


class S3Storage:
    """One bucket of an S3-compatible server, through boto3.

    Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID`` /
    ``AWS_SECRET_ACCESS_KEY``, profiles, instance roles).  ``public_endpoint_url``
    is the address browsers reach the server at, when it differs from the one
    the workers use (``http://minio:9000`` inside a compose network): presigned
    URLs are signed for it, since the host is part of what is signed.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        transfer: TransferConfig | None = None,
        client: S3Client | None = None,
        public_endpoint_url: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.public_endpoint_url = public_endpoint_url or None
        self._presigner: S3Client | None = None
        self.region = region
        self.transfer = transfer or TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20)
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> S3Client:
        """The boto3 client, built on first use (boto3 clients are thread-safe once built)."""
        with self._lock:
            if self._client is None:
                self._client = self._build(self.endpoint_url)
            return self._client

    @property
    def presigner(self) -> S3Client:
        """The client that signs URLs: for the public endpoint when there is one."""
        if self.public_endpoint_url is None or self.public_endpoint_url == self.endpoint_url:
            return self.client
        with self._lock:
            if self._presigner is None:
                self._presigner = self._build(self.public_endpoint_url)
            return self._presigner

    def _build(self, endpoint_url: str | None) -> S3Client:
        return boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=self.region,
            config=Config(signature_version="s3v4", retries={"mode": "standard"}),
        )

    def ensure_bucket(self) -> bool:
        """Create the bucket unless it exists; whether it was created (safe to run again)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return False
        except ClientError as exc:
            if _code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
                raise StorageError(self.bucket, _describe(exc)) from exc
        except BotoCoreError as exc:
            raise StorageError(self.bucket, _describe(exc)) from exc
        try:
            if self.region == "us-east-1":
                self.client.create_bucket(Bucket=self.bucket)
            else:
                self.client.create_bucket(
                    Bucket=self.bucket,
                    CreateBucketConfiguration={"LocationConstraint": self.region},  # type: ignore[typeddict-item]
                )
        except ClientError as exc:
            if _code(exc) in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                return False
            raise StorageError(self.bucket, _describe(exc)) from exc
        except BotoCoreError as exc:
            raise StorageError(self.bucket, _describe(exc)) from exc
        return True

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.put_file(key, io.BytesIO(data), content_type)

    def put_file(self, key: str, fileobj: BinaryIO, content_type: str = "application/octet-stream") -> None:
        validate_key(key)
        try:
            self.client.upload_fileobj(
                fileobj, self.bucket, key, ExtraArgs={"ContentType": content_type}, Config=self.transfer
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(key, _describe(exc)) from exc

    def get(self, key: str) -> bytes:
        validate_key(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise ObjectNotFoundError(key) from None
            raise StorageError(key, _describe(exc)) from exc
        except BotoCoreError as exc:
            raise StorageError(key, _describe(exc)) from exc

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise StorageError(key, _describe(exc)) from exc
        except BotoCoreError as exc:
            raise StorageError(key, _describe(exc)) from exc
        return True

    def url(self, key: str, expires_s: int = 3600) -> str:
        validate_key(key)
        return self.presigner.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_s
        )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', '?')}: {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


@functools.cache
def storage_from_settings(settings: DomainSettings) -> Storage:
    """The store the settings name (``STORAGE_BACKEND``), one per distinct settings."""
    if settings.storage_backend == "s3":
        return S3Storage(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            public_endpoint_url=settings.s3_public_endpoint_url,
        )
    return LocalStorage(settings.storage_dir)
