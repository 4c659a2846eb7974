"""Image processing without a queue: fitted variants, optimisation, hostile files."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image, ImageChops, ImageStat

from actors.errors import ImageTooLargeError, InvalidImageError
from actors.images.processing import fit_within, load_image, optimize
from pipeline.errors import UnrecoverableError
from tests.domain.images import GPS_IFD, photo, png_bomb


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio of two RGB images, in dB."""
    squares = ImageStat.Stat(ImageChops.difference(a, b)).sum2
    mse = sum(squares) / (3 * a.width * a.height)
    return 10 * math.log10(255**2 / mse)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(("box", "expected"), [(150, (150, 100)), (500, (500, 333)), (1200, (1200, 800))])
def test_a_3000x2000_photo_fits_each_box_keeping_its_aspect_ratio(
    box: int, expected: tuple[int, int]
) -> None:
    variant = fit_within(photo(3000, 2000), box, box)
    image = opened(variant.data)
    assert image.format == "JPEG" and image.size == expected == (variant.width, variant.height)


def test_an_image_smaller_than_the_box_is_not_upscaled() -> None:
    assert opened(fit_within(photo(120, 80), 500, 500).data).size == (120, 80)


def test_exif_orientation_is_applied_before_fitting() -> None:
    # Orientation 6: stored landscape, shown rotated a quarter turn, i.e. portrait.
    variant = fit_within(photo(300, 200, orientation=6), 150, 150)
    assert opened(variant.data).size == (100, 150)


def test_variants_carry_no_exif_or_gps() -> None:
    source = photo(600, 400, orientation=6)
    assert opened(source).getexif().get_ifd(GPS_IFD)

    for data in (fit_within(source, 150, 150).data, optimize(source).data):
        image = opened(data)
        assert not image.getexif() and "exif" not in image.info


def test_webp_output_keeps_transparency() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (400, 200), (255, 0, 0, 0)).save(buffer, "PNG")
    variant = fit_within(buffer.getvalue(), 100, 100, output="webp")
    image = opened(variant.data)
    assert image.format == "WEBP" and image.mode == "RGBA" and image.size == (100, 50)
    assert variant.content_type == "image/webp" and variant.extension == "webp"


def test_a_transparent_png_turned_into_jpeg_gets_a_white_background() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(buffer, "PNG")
    image = opened(fit_within(buffer.getvalue(), 40, 40).data).convert("RGB")
    assert image.getpixel((20, 20)) == (255, 255, 255)


def test_optimize_makes_a_high_quality_jpeg_smaller_without_visible_loss() -> None:
    source = photo(1200, 800, quality=100)
    result = optimize(source)
    assert result.format == "JPEG" and len(result.data) < len(source) * 0.8
    before, after = opened(source).convert("RGB"), opened(result.data).convert("RGB")
    assert before.size == after.size
    assert psnr(before, after) > 40  # dB; above about 40, differences are not visible


def test_optimize_keeps_an_original_that_cannot_get_smaller() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, "JPEG", quality=10, optimize=True)
    assert optimize(buffer.getvalue()).data == buffer.getvalue()


def test_a_text_file_is_not_an_image() -> None:
    with pytest.raises(InvalidImageError, match="not an image") as caught:
        fit_within(b"hello, I am a text file named cat.jpg\n", 150, 150)
    assert isinstance(caught.value, UnrecoverableError)


def test_a_format_outside_the_accepted_list_is_refused() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "BMP")
    with pytest.raises(InvalidImageError, match="accepted format"):
        load_image(buffer.getvalue())


def test_a_truncated_jpeg_is_refused_as_truncated() -> None:
    data = photo(800, 600)
    with pytest.raises(InvalidImageError, match="truncated"):
        fit_within(data[: len(data) // 2], 150, 150)


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = png_bomb(20_000, 20_000)  # 400 megapixels in well under a megabyte
    assert len(bomb) < 1_000_000
    with pytest.raises(InvalidImageError, match="decompression bomb"):
        fit_within(bomb, 150, 150)


def test_an_image_over_the_pixel_budget_names_its_size() -> None:
    with pytest.raises(ImageTooLargeError, match="8000x6000") as caught:
        load_image(png_bomb(8000, 6000))
    assert caught.value.max_pixels == 40_000_000
    assert load_image(png_bomb(8000, 6000), max_pixels=50_000_000).size == (8000, 6000)
