"""The file stores: a local directory and S3 (moto in server mode, over HTTP)."""

from __future__ import annotations

import io
import urllib.request
from pathlib import Path

import pytest
from boto3.s3.transfer import TransferConfig

from actors.errors import InvalidStorageKeyError, ObjectNotFoundError, StorageError
from actors.settings import DomainSettings
from actors.storage import LocalStorage, S3Storage, Storage, storage_from_settings, validate_key
from tests.domain.servers import S3Server


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    result: S3Storage = request.getfixturevalue("s3_storage")
    return result


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/./b", "a\\b", "a\nb", "", "a/.."])
def test_keys_that_could_escape_the_store_are_refused(key: str) -> None:
    with pytest.raises(InvalidStorageKeyError):
        validate_key(key)


def test_both_stores_round_trip_bytes_and_report_existence(storage: Storage) -> None:
    assert not storage.exists("images/1/original")
    storage.put("images/1/original", b"\x89PNG...", "image/png")
    assert storage.exists("images/1/original")
    assert storage.get("images/1/original") == b"\x89PNG..."
    with pytest.raises(ObjectNotFoundError):
        storage.get("images/1/missing")


def test_both_stores_refuse_an_escaping_key(storage: Storage) -> None:
    with pytest.raises(InvalidStorageKeyError):
        storage.put("../outside", b"x")


def test_a_presigned_url_downloads_the_object(s3_storage: S3Storage) -> None:
    s3_storage.put("reports/r.pdf", b"%PDF-1.4 hello", "application/pdf")
    url = s3_storage.url("reports/r.pdf", expires_s=60)
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"%PDF-1.4 hello"
        assert response.headers["Content-Type"] == "application/pdf"


def test_a_large_file_goes_up_in_parts(s3_server: S3Server, s3_bucket: str) -> None:
    storage = S3Storage(
        s3_bucket,
        endpoint_url=s3_server.endpoint_url,
        transfer=TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20),
    )
    payload = bytes(range(256)) * (11 << 12)  # 11 MiB: three parts of at most 5 MiB

    storage.put_file("big/blob.bin", io.BytesIO(payload))

    head = storage.client.head_object(Bucket=s3_bucket, Key="big/blob.bin")
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]  # multipart ETags end in -<parts>
    assert storage.get("big/blob.bin") == payload


def test_a_missing_bucket_is_a_storage_error_not_a_missing_object(
    s3_server: S3Server, aws_credentials: None
) -> None:
    storage = S3Storage("no-such-bucket-here", endpoint_url=s3_server.endpoint_url)
    with pytest.raises(StorageError, match="NoSuchBucket"):
        storage.put("a", b"x")


def test_the_local_store_is_the_default_and_s3_is_chosen_by_settings(tmp_path: Path) -> None:
    local = storage_from_settings(DomainSettings(storage_dir=str(tmp_path)))
    assert isinstance(local, LocalStorage) and local.root == tmp_path.resolve()
    s3 = storage_from_settings(
        DomainSettings(storage_backend="s3", s3_bucket="b", s3_endpoint_url="http://127.0.0.1:1")
    )
    assert isinstance(s3, S3Storage) and s3.bucket == "b" and s3._client is None  # built on first use
