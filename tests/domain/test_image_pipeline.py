"""Image processing end to end: upload, four variants by a worker, in S3 (moto) and in the local store."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image

from actors.images.service import ImageService
from actors.storage import LocalStorage, S3Storage, Storage
from pipeline.errors import JobFailedError
from pipeline.queue import Queue
from tests.domain.images import photo, png_bomb
from tests.domain.servers import S3Server, existing
from tests.support import WorkerProcess


@pytest.fixture(params=["s3", "local"])
def store_and_env(
    request: pytest.FixtureRequest, local_store: LocalStorage, s3_server: S3Server
) -> tuple[Storage, dict[str, str]]:
    if request.param == "local":
        return local_store, {}
    s3: S3Storage = request.getfixturevalue("s3_storage")
    return s3, s3_server.env(s3.bucket)


@pytest.fixture
def image_queue(make_queue: Callable[[str], Queue]) -> Queue:
    return make_queue("image-processing")


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_a_3000x2000_jpeg_yields_four_variants_within_their_boxes(
    store_and_env: tuple[Storage, dict[str, str]],
    image_queue: Queue,
    domain_worker: Callable[..., WorkerProcess],
) -> None:
    store, env = store_and_env
    domain_worker(env=env)
    original = photo(3000, 2000, quality=100)

    uploaded = ImageService(image_queue, store).upload_image(original, user_id=7, content_type="image/jpeg")

    results = {
        job.name: job.wait_until_finished(60)
        for job in (image_queue.get_job(job_id) for job_id in uploaded["job_ids"])
        if job is not None
    }
    image_id = uploaded["image_id"]
    assert store.get(f"images/{image_id}/original") == original
    expected = {"thumbnail": (150, 100), "medium": (500, 333), "large": (1200, 800)}
    for name, size in expected.items():
        assert results[name]["key"] == f"images/{image_id}/{name}.jpg"
        assert (
            size_of(store.get(results[name]["key"]))
            == size
            == (results[name]["width"], results[name]["height"])
        )
    optimized = store.get(results["optimize"]["key"])
    assert size_of(optimized) == (3000, 2000) and len(optimized) < len(original)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"Dear diary, today I renamed this text file to holiday.jpg\n", "not an image"),
        (png_bomb(20_000, 20_000), "decompression bomb"),
    ],
    ids=["text-file-named-jpg", "decompression-bomb"],
)
def test_hostile_uploads_fail_after_one_attempt_with_the_reason(
    payload: bytes,
    reason: str,
    local_store: LocalStorage,
    image_queue: Queue,
    domain_worker: Callable[..., WorkerProcess],
) -> None:
    domain_worker()

    uploaded = ImageService(image_queue, local_store).upload_image(payload, user_id=7)

    for job_id in uploaded["job_ids"]:
        job = image_queue.get_job(job_id)
        assert job is not None
        with pytest.raises(JobFailedError, match=reason):
            job.wait_until_finished(30)
        assert existing(image_queue, job_id).attempts_made == 1
    assert image_queue.get_failed_count() == 4
