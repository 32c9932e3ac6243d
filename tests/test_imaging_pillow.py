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
