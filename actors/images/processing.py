"""Pillow work on uploaded images, as pure functions of bytes.

Uploads are hostile input.  Before any pixel is decoded an image must be in an
accepted format and under a pixel budget, so a small file that inflates to
gigabytes (a decompression bomb) is refused from its header alone.  A file
that is not an image, or stops short, is refused with the reason.  All three
raise :class:`InvalidImageError` subclasses, which fail the job without retries.

Outputs keep no EXIF, XMP or comments: camera metadata can carry the
uploader's location.  The ICC profile is kept, since dropping it shifts colours.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError

from actors.errors import ImageTooLargeError, InvalidImageError

OutputFormat = Literal["jpeg", "webp"]

#: Formats accepted as input; Pillow knows many more, each one more parser exposed to uploads.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
#: Largest input, in pixels (a 40-megapixel photo decodes to about 120 MB of RGB).
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_QUALITY = 85

_CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


@dataclass(frozen=True)
class EncodedImage:
    """An image written out.

    Attributes:
        data: the encoded bytes.
        width, height: its size in pixels.
        format: Pillow's format name (``JPEG``, ``WEBP``, ...).
    """

    data: bytes
    width: int
    height: int
    format: str

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES.get(self.format, "application/octet-stream")

    @property
    def extension(self) -> str:
        return _EXTENSIONS.get(self.format, "bin")


def load_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode ``data`` after checking its format and size; the result is fully loaded.

    Raises :class:`InvalidImageError` (not an image, unaccepted format, truncated or
    corrupt) or :class:`ImageTooLargeError` (over ``max_pixels``).
    """
    budget = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except UnidentifiedImageError:
        raise InvalidImageError(
            f"not an image in an accepted format ({', '.join(ACCEPTED_FORMATS)})"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard tripped before ours could look; report it the same way.
        raise InvalidImageError(f"possible decompression bomb: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImageError(f"unreadable image header: {exc}") from None
    width, height = image.size
    if width * height > budget:
        image.close()
        raise ImageTooLargeError(width, height, budget)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImageError(f"truncated or corrupt image data: {exc}") from None
    return image


def _prepare(image: Image.Image, output: str) -> Image.Image:
    """Orientation baked in, metadata dropped, and a mode the output format can store."""
    icc = image.info.get("icc_profile")
    oriented = ImageOps.exif_transpose(image)
    has_alpha = oriented.mode in ("RGBA", "LA", "PA") or "transparency" in oriented.info
    if output == "JPEG":
        if has_alpha:
            rgba = oriented.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            oriented = flat
        elif oriented.mode != "RGB":
            oriented = oriented.convert("RGB")
    elif oriented.mode not in ("RGB", "RGBA"):
        oriented = oriented.convert("RGBA" if has_alpha else "RGB")
    clean = oriented.copy()
    clean.info = {"icc_profile": icc} if icc else {}
    return clean


def _encode(image: Image.Image, output: str, quality: int) -> EncodedImage:
    buffer = io.BytesIO()
    icc = image.info.get("icc_profile")
    extra = {"icc_profile": icc} if icc else {}
    if output == "JPEG":
        image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True, **extra)
    elif output == "WEBP":
        image.save(buffer, "WEBP", quality=quality, method=6, **extra)
    elif output == "PNG":
        image.save(buffer, "PNG", optimize=True, **extra)
    else:
        raise ValueError(f"unsupported output format {output!r}")
    return EncodedImage(buffer.getvalue(), image.width, image.height, output)


def fit_within(
    data: bytes,
    width: int,
    height: int,
    *,
    output: OutputFormat = "jpeg",
    quality: int = DEFAULT_QUALITY,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> EncodedImage:
    """Scale the image down to fit a ``width`` x ``height`` box, keeping its aspect ratio.

    An image already inside the box keeps its size (never upscaled).  EXIF
    orientation is applied first, so the box applies to the image as seen.
    """
    if width < 1 or height < 1:
        raise ValueError(f"box must be at least 1x1, got {width}x{height}")
    fmt = output.upper()
    with load_image(data, max_pixels=max_pixels) as image:
        prepared = _prepare(image, fmt)
    prepared.thumbnail((width, height), Image.Resampling.LANCZOS)
    return _encode(prepared, fmt, quality)


def optimize(
    data: bytes, *, quality: int = DEFAULT_QUALITY, max_pixels: int = DEFAULT_MAX_PIXELS
) -> EncodedImage:
    """Re-encode the image in its own format, smaller and without metadata.

    JPEG and WebP are re-encoded at ``quality`` (85 is visually lossless for
    photos); PNG is recompressed losslessly.  GIF (possibly animated) is
    returned as it was.  If the re-encode is not smaller, the original bytes are
    returned unchanged (an already tight file gains nothing from a second pass).
    """
    with load_image(data, max_pixels=max_pixels) as image:
        source_format = image.format or "JPEG"
        if source_format == "GIF":
            return EncodedImage(data, image.width, image.height, "GIF")
        prepared = _prepare(image, source_format)
    encoded = _encode(prepared, source_format, quality)
    if len(encoded.data) >= len(data):
        return EncodedImage(data, prepared.width, prepared.height, source_format)
    return encoded
