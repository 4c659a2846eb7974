"""The image variants and where each file of an image is stored."""

from __future__ import annotations

import re

from actors.errors import InvalidImageError

QUEUE = "image-processing"

#: Variant name -> the box it must fit in (the seed's sizes).
BOXES: dict[str, tuple[int, int]] = {
    "thumbnail": (150, 150),
    "medium": (500, 500),
    "large": (1200, 1200),
}

_IMAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")


def check_image_id(image_id: object) -> str:
    """``image_id`` if it is a plain token (it becomes part of storage keys)."""
    if not isinstance(image_id, str) or not _IMAGE_ID.match(image_id):
        raise InvalidImageError(f"invalid image id {image_id!r}")
    return image_id


def original_key(image_id: str) -> str:
    return f"images/{check_image_id(image_id)}/original"


def variant_key(image_id: str, variant: str, extension: str) -> str:
    return f"images/{check_image_id(image_id)}/{variant}.{extension}"
