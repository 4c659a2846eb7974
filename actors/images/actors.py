"""The image-processing queue's handlers: read the original, write a variant.

A file that is not an acceptable image fails at once (``InvalidImageError`` is
unrecoverable); a storage hiccup is retried.
"""

from __future__ import annotations

from typing import Any

from actors import deps
from actors.images.processing import OutputFormat, fit_within, optimize
from actors.images.variants import QUEUE, original_key, variant_key
from pipeline import UnrecoverableError, actor, current_job

RETRY: dict[str, Any] = {"attempts": 3, "backoff": {"type": "exponential", "delay": 2000}, "timeout": 120_000}


def _resize(image_id: str, width: int, height: int, output: str) -> dict[str, Any]:
    job = current_job()
    if output not in ("jpeg", "webp"):
        raise UnrecoverableError(f"output must be 'jpeg' or 'webp', got {output!r}")
    fmt: OutputFormat = "webp" if output == "webp" else "jpeg"
    store = deps.storage()
    variant = fit_within(store.get(original_key(image_id)), width, height, output=fmt)
    key = variant_key(image_id, job.name, variant.extension)
    store.put(key, variant.data, variant.content_type)
    job.log(f"{job.name}: {variant.width}x{variant.height} {variant.format}, {len(variant.data)} bytes")
    return {"key": key, "width": variant.width, "height": variant.height, "bytes": len(variant.data)}


@actor(queue_name=QUEUE, job_name="thumbnail", **RETRY)
def create_thumbnail(
    image_id: str, width: int = 150, height: int = 150, output: str = "jpeg", user_id: int | None = None
) -> dict[str, Any]:
    """The 150x150 thumbnail."""
    return _resize(image_id, width, height, output)


@actor(queue_name=QUEUE, job_name="medium", **RETRY)
def create_medium(
    image_id: str, width: int = 500, height: int = 500, output: str = "jpeg", user_id: int | None = None
) -> dict[str, Any]:
    """The 500x500 variant."""
    return _resize(image_id, width, height, output)


@actor(queue_name=QUEUE, job_name="large", **RETRY)
def create_large(
    image_id: str, width: int = 1200, height: int = 1200, output: str = "jpeg", user_id: int | None = None
) -> dict[str, Any]:
    """The 1200x1200 variant."""
    return _resize(image_id, width, height, output)


@actor(queue_name=QUEUE, job_name="optimize", **RETRY)
def optimize_image(image_id: str, user_id: int | None = None) -> dict[str, Any]:
    """The original re-encoded smaller, without metadata, in its own format."""
    store = deps.storage()
    original = store.get(original_key(image_id))
    result = optimize(original)
    key = variant_key(image_id, "optimized", result.extension)
    store.put(key, result.data, result.content_type)
    current_job().log(f"optimize: {len(original)} -> {len(result.data)} bytes")
    return {"key": key, "bytes_before": len(original), "bytes_after": len(result.data)}
