"""Test images made on the spot: photos with EXIF, bombs, impostors."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

ORIENTATION = 0x0112
GPS_IFD = 0x8825


def photo(width: int, height: int, *, orientation: int = 1, quality: int = 95, fmt: str = "JPEG") -> bytes:
    """A photo-like image (gradients plus grain) with EXIF orientation and a GPS tag."""
    red = Image.linear_gradient("L").resize((width, height))
    green = red.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    blue = Image.effect_noise((width, height), 8)
    image = Image.merge("RGB", (red, green, blue))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD)[2] = (48.0, 51.0, 29.0)  # GPSLatitude: where the photo was taken
    buffer = io.BytesIO()
    image.save(buffer, fmt, quality=quality, exif=exif)
    return buffer.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` zeros: kilobytes on disk, gigapixels decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
