"""The imaging contract (tests/imaging_contract.py) on PillowImaging, plus Pillow-only cases."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import imaging_contract  # noqa: E402

from PIL import Image  # noqa: E402

from imagesynth.errors import ImageInputError  # noqa: E402
from imagesynth.imaging.pillow import PillowImaging  # noqa: E402


@pytest.fixture
def imaging():
    return PillowImaging()


@pytest.mark.parametrize("check", imaging_contract.CHECKS, ids=lambda c: c.__name__)
async def test_contract(imaging, check):
    await check(imaging)


async def test_run_all_reports_nothing(imaging):
    assert await imaging_contract.run_all(imaging) == []


def test_contract_has_the_checks_the_design_asks_for():
    names = {c.__name__ for c in imaging_contract.CHECKS}
    for want in ("check_exif_orientation", "check_gif_first_frame", "check_pixel_limit", "check_byte_limit",
                 "check_mask_black_white", "check_invert_mask", "check_paste_back_outside_exact",
                 "check_resize", "check_encode_roundtrip", "check_truncated"):
        assert want in names


def _png(im: Image.Image) -> bytes:
    b = io.BytesIO()
    im.save(b, "PNG")
    return b.getvalue()


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "I;16", "CMYK"])
async def test_every_mode_becomes_rgb_or_rgba(imaging, mode):
    """RGBA where the file has alpha, else RGB (half the resize time of RGBA for a photo)."""
    im = Image.new("RGB", (6, 4), (200, 100, 50)).convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    b = io.BytesIO()
    if mode == "I;16":
        im = Image.new("I;16", (6, 4), 40000)
    im.save(b, fmt)
    pic = await imaging.decode(b.getvalue())
    assert pic.mode == ("RGBA" if mode == "LA" else "RGB") and pic.size == (6, 4)
    assert not await imaging.has_transparency(pic)
    if mode == "I;16":
        assert 150 <= pic.getpixel((0, 0))[0] <= 160  # scaled, not clipped to 255


async def test_adopt_pil_image_applies_exif_and_first_frame(imaging):
    im = Image.open(io.BytesIO(imaging_contract.FIXTURES["jpeg_exif6"]))
    pic = imaging.adopt(im)
    assert pic.size == (16, 32) and pic.mode == "RGB"
    gif = Image.open(io.BytesIO(imaging_contract.FIXTURES["gif_animated"]))
    gif.seek(1)
    assert imaging.adopt(gif).getpixel((2, 2))[:3] == (255, 0, 0)
    with pytest.raises(ImageInputError):
        imaging.adopt("cat.png")


async def test_decompression_bomb_over_pillows_own_limit_is_our_error(imaging, monkeypatch):
    # a caller raised our limit above Pillow's global guard: Pillow's error must become ours
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    data = _png(Image.new("RGB", (20, 20)))  # 400 px > 2 x 100: DecompressionBombError in Pillow
    with pytest.raises(ImageInputError, match="pixels"):
        await imaging.decode(data, imaging_contract.Limits(max_pixels=10_000))


async def test_pillow_global_limit_untouched(imaging):
    before = Image.MAX_IMAGE_PIXELS
    await imaging.decode(_png(Image.new("RGB", (4, 4))))
    assert Image.MAX_IMAGE_PIXELS == before


def test_imaging_package_imports_without_pillow():
    import subprocess

    code = (
        "import sys; sys.modules['PIL'] = None\n"
        "import imagesynth.imaging, imagesynth.prepare, imagesynth.finish, imagesynth.pngmeta\n"
        "import imagesynth.imaging.sniff\n"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def _jpeg(im: Image.Image, **kw) -> bytes:
    b = io.BytesIO()
    im.save(b, "JPEG", quality=90, **kw)
    return b.getvalue()


def _quadrants(size) -> Image.Image:
    """Red top-left, green top-right, blue bottom-left, white bottom-right: orientation shows."""
    w, h = size
    im = Image.new("RGB", size, "white")
    im.paste((255, 0, 0), (0, 0, w // 2, h // 2))
    im.paste((0, 255, 0), (w // 2, 0, w, h // 2))
    im.paste((0, 0, 255), (0, h // 2, w // 2, h))
    return im


async def test_decode_reduced_decodes_a_large_jpeg_smaller(imaging):
    """libjpeg's DCT scaling: the largest reduction (1/2, 1/4, 1/8) that keeps the longest edge
    at least min_edge, with the full size beside it, and the same picture as decode's."""
    data = _jpeg(_quadrants((1600, 1200)))
    full = await imaging.decode(data)
    for min_edge, size in ((700, (800, 600)), (400, (400, 300)), (390, (400, 300)), (200, (200, 150))):
        pic, full_size = await imaging.decode_reduced(data, min_edge)
        assert pic.size == size and full_size == (1600, 1200) and pic.mode == "RGB"
        for x, y in ((0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)):
            small = pic.getpixel((int(x * size[0]), int(y * size[1])))
            big = full.getpixel((int(x * 1600), int(y * 1200)))
            assert all(abs(a - b) <= 8 for a, b in zip(small, big)), (min_edge, x, y)


async def test_decode_reduced_applies_exif_orientation(imaging):
    im = _quadrants((800, 400))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: shown rotated a quarter turn clockwise
    data = _jpeg(im, exif=exif.tobytes())
    full = await imaging.decode(data)
    pic, full_size = await imaging.decode_reduced(data, 200)
    assert full.size == full_size == (400, 800) and pic.size == (100, 200)
    # the same corner is red in both: the smaller decode is turned as the full one is
    red = [xy for xy in ((0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75))
           if full.getpixel((int(xy[0] * 400), int(xy[1] * 800)))[0] > 200 > full.getpixel(
               (int(xy[0] * 400), int(xy[1] * 800)))[1]]
    assert len(red) == 1
    x, y = red[0]
    r, g, b = pic.getpixel((int(x * 100), int(y * 200)))
    assert r > 200 and g < 60 and b < 60


async def test_decode_reduced_says_none_where_it_would_not_be_quicker(imaging):
    assert await imaging.decode_reduced(_png(_quadrants((1600, 1200))), 400) is None  # PNG: no scaling
    assert await imaging.decode_reduced(_jpeg(_quadrants((1600, 1200))), 801) is None  # not even 1/2
    assert await imaging.decode_reduced(_jpeg(_quadrants((300, 200))), 200) is None


async def test_decode_reduced_checks_as_decode_does(imaging):
    data = _jpeg(_quadrants((1600, 1200)))
    with pytest.raises(ImageInputError, match="pixels"):
        await imaging.decode_reduced(data, 400, imaging_contract.Limits(max_pixels=1_000_000))
    with pytest.raises(ImageInputError, match="damaged or truncated"):
        await imaging.decode_reduced(data[: len(data) // 2] + b"\0" * 64, 400)
    with pytest.raises(ImageInputError, match="format"):
        await imaging.decode_reduced(b"BM" + b"\0" * 64, 400)


async def test_an_opaque_result_is_written_without_alpha_and_an_upload_with_it(imaging):
    """IHDR colour type: 2 RGB, 6 RGBA. A PNG result of an opaque picture goes without alpha (a
    12 MP photo's is written in less than half the time); uploads keep RGBA for endpoints that
    want it; a translucent picture keeps its alpha either way."""
    rgb = Image.new("RGB", (8, 6), (10, 200, 30))
    opaque_rgba = Image.new("RGBA", (8, 6), (10, 200, 30, 255))
    translucent = Image.new("RGBA", (8, 6), (10, 200, 30, 128))
    for pic in (rgb, opaque_rgba):
        assert (await imaging.encode(pic, "png", keep_alpha=False))[25] == 2
        assert (await imaging.encode(pic, "png"))[25] == 6
        assert (await imaging.encode(pic, "png", fast=True))[25] == 6
    assert (await imaging.encode(translucent, "png", keep_alpha=False))[25] == 6
