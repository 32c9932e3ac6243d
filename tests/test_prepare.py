"""Fitting inputs to each model's profile (tests/imaging_contract.py covers the primitives)."""

from __future__ import annotations

import io
import random
from dataclasses import replace

import pytest
from PIL import Image

from imagesynth.errors import ImageInputError
from imagesynth.imaging.pillow import PillowImaging
from imagesynth.models import profile_for
from imagesynth.prepare import load_picture, prepare_edit

DALLE2, GPT = profile_for("dall-e-2"), profile_for("gpt-image-1")


@pytest.fixture
def imaging():
    return PillowImaging()


def enc(im: Image.Image, fmt="PNG", **kw) -> bytes:
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def holed(size=(300, 200), box=(100, 50, 200, 150)) -> Image.Image:
    im = Image.new("RGBA", size, (200, 30, 30, 255))
    im.paste((0, 0, 0, 0), box)
    return im


def bw_mask(size, box) -> Image.Image:
    m = Image.new("L", size, 0)
    m.paste(255, box)
    return m


def opened(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


async def test_transparent_image_gives_explicit_mask(imaging):
    p = await prepare_edit(imaging, GPT, enc(holed()))
    assert p.mask is not None and p.upload_size == (300, 200) and p.placement == (0, 0, 300, 200)
    m = opened(p.mask)
    assert m.size == (300, 200) and m.getpixel((150, 100))[3] == 0 and m.getpixel((10, 10))[3] == 255
    img = opened(p.images[0])
    assert img.mode == "RGBA" and img.getpixel((150, 100))[3] == 0  # the image keeps its transparency
    assert p.image_mimes == ["image/png"] and (await p.paste_back_mask(imaging)).size == (300, 200)


async def test_opaque_image_without_mask_is_refused_with_a_way_out(imaging):
    with pytest.raises(ImageInputError, match="mask") as e:
        await prepare_edit(imaging, GPT, enc(Image.new("RGB", (64, 64), "red")))
    assert "transparent" in str(e.value)


async def test_use_transparency_off_needs_a_mask(imaging):
    with pytest.raises(ImageInputError):
        await prepare_edit(imaging, GPT, enc(holed()), use_transparency=False)


async def test_black_white_mask_and_mask_of_other_size(imaging):
    photo = Image.new("RGB", (200, 100), "blue")
    p = await prepare_edit(imaging, GPT, enc(photo, "JPEG"), enc(bw_mask((100, 50), (10, 10, 40, 40))))
    assert any("mask" in w for w in p.warnings)
    m = opened(p.mask)
    assert m.size == (200, 100) and m.getpixel((50, 50))[3] == 0 and m.getpixel((150, 50))[3] == 255


async def test_mask_marking_nothing_is_refused(imaging):
    with pytest.raises(ImageInputError, match="nothing"):
        await prepare_edit(imaging, GPT, enc(Image.new("RGB", (64, 64))), enc(Image.new("L", (64, 64), 0)))


async def test_photo_as_mask_is_refused(imaging):
    rnd = random.Random(1)
    noise = Image.frombytes("RGB", (64, 64), bytes(rnd.randrange(60, 200) for _ in range(64 * 64 * 3)))
    with pytest.raises(ImageInputError, match="black"):
        await prepare_edit(imaging, GPT, enc(Image.new("RGB", (64, 64))), enc(noise))


async def test_dalle2_edit_pads_to_square_and_keeps_every_pixel(imaging):
    p = await prepare_edit(imaging, DALLE2, enc(holed()))
    assert p.upload_size == (300, 300) and p.placement == (0, 50, 300, 200)
    img, m = opened(p.images[0]), opened(p.mask)
    assert img.mode == "RGBA" and m.size == (300, 300)
    assert img.getpixel((5, 60)) == (200, 30, 30, 255)  # original content, shifted down by 50
    assert m.getpixel((150, 150))[3] == 0  # the hole is the paint area
    assert m.getpixel((150, 10))[3] == 255  # the added border is kept, not painted
    assert m.getpixel((150, 290))[3] == 255


async def test_dalle2_variation_center_crops(imaging):
    im = Image.new("RGB", (300, 200), "blue")
    im.paste("red", (0, 0, 50, 200))
    p = await prepare_edit(imaging, DALLE2, enc(im), operation="variation")
    assert p.upload_size == (200, 200) and p.mask is None and p.paint_mask is None
    assert p.placement == (-50, 0, 300, 200)
    assert opened(p.images[0]).getpixel((0, 100))[:3] == (0, 0, 255)  # the red strip was cropped off
    assert any("square" in w for w in p.warnings)


async def test_variation_needs_no_mask_even_for_opaque_images(imaging):
    p = await prepare_edit(imaging, GPT, enc(Image.new("RGB", (100, 80), "green")), operation="variation")
    assert p.mask is None and p.upload_size == (100, 80)


async def test_large_photos_are_downscaled_to_the_models_edge(imaging):
    big = Image.new("RGB", (3000, 1500), "white")
    p = await prepare_edit(imaging, GPT, enc(big, "JPEG"), enc(bw_mask((3000, 1500), (0, 0, 500, 500))))
    assert p.upload_size == (2048, 1024) and opened(p.mask).size == (2048, 1024)
    assert p.placement == (0, 0, 2048, 1024)
    assert p.original.size == (3000, 1500)
    assert p.paint_mask is None  # made for paste-back when the first result is finished
    full = await p.paste_back_mask(imaging)
    assert full.size == (3000, 1500) and full.getpixel((100, 100))[3] == 0 and full.getpixel((1000, 1000))[3] == 255
    assert await p.paste_back_mask(imaging) is full
    p2 = await prepare_edit(imaging, DALLE2, enc(Image.new("RGB", (1500, 1500))), operation="variation")
    assert p2.upload_size == (1024, 1024)


async def test_byte_limit_downscales_step_by_step(imaging):
    rnd = random.Random(7)
    noise = Image.frombytes("RGBA", (400, 400), bytes(rnd.randrange(256) for _ in range(400 * 400 * 4)))
    tight = replace(DALLE2, edit_max_bytes=200_000)  # noise does not compress: must shrink
    p = await prepare_edit(imaging, tight, enc(noise))
    assert len(p.images[0]) <= 200_000 and p.upload_size[0] < 400
    assert opened(p.images[0]).size == p.upload_size == opened(p.mask).size
    assert any("downscaled" in w for w in p.warnings)


async def test_opaque_image_over_limit_tries_jpeg_where_accepted(imaging):
    rnd = random.Random(3)
    noise = Image.frombytes("RGB", (300, 300), bytes(rnd.randrange(256) for _ in range(300 * 300 * 3)))
    tight = replace(GPT, edit_max_bytes=250_000)
    p = await prepare_edit(imaging, tight, enc(noise), operation="variation")
    assert p.image_mimes == ["image/jpeg"] and p.upload_size == (300, 300)


async def test_exif_orientation_applied_before_fitting(imaging):
    im = Image.new("RGB", (40, 20), "red")
    exif = Image.Exif()
    exif[0x0112] = 6
    p = await prepare_edit(imaging, GPT, enc(im, "JPEG", exif=exif.tobytes()), operation="variation")
    assert p.upload_size == (20, 40)


async def test_load_picture_sources(imaging, tmp_path):
    data = enc(Image.new("RGB", (8, 6)))
    path = tmp_path / "x.png"
    path.write_bytes(data)
    for src in (data, bytearray(data), memoryview(data), str(path), path, Image.open(path)):
        assert (await load_picture(imaging, src)).size == (8, 6)
    with pytest.raises(ImageInputError, match="Cannot read"):
        await load_picture(imaging, tmp_path / "missing.png")


async def test_svg_and_text_refused_before_anything(imaging):
    for data in (b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"just text"):
        with pytest.raises(ImageInputError, match="PNG"):
            await prepare_edit(imaging, GPT, data, operation="variation")


async def test_unknown_operation_is_a_programming_error(imaging):
    with pytest.raises(ValueError):
        await prepare_edit(imaging, GPT, enc(holed()), operation="generate")


# --- upload format, for speed -------------------------------------------------------------------
async def test_opaque_jpeg_goes_as_jpeg_without_a_transparency_scan(imaging, monkeypatch):
    photo = enc(Image.new("RGB", (600, 400), (90, 120, 30)), "JPEG")
    mask = enc(bw_mask((600, 400), (100, 100, 200, 200)))
    calls = []
    real = imaging.has_transparency

    async def spy(pic):
        calls.append(pic)
        return await real(pic)

    monkeypatch.setattr(imaging, "has_transparency", spy)
    p = await prepare_edit(imaging, GPT, photo, mask)
    assert p.image_mimes == ["image/jpeg"] and Image.open(io.BytesIO(p.images[0])).format == "JPEG"
    assert calls and not any(pic is p.original for pic in calls)  # only the masks were looked at
    assert Image.open(io.BytesIO(p.mask)).format == "PNG"


async def test_transparent_source_goes_as_png_and_rgba_models_get_png(imaging):
    p = await prepare_edit(imaging, GPT, enc(holed()))
    assert p.image_mimes == ["image/png"]
    opaque = enc(Image.new("RGB", (256, 256), "red"), "JPEG")
    p = await prepare_edit(imaging, DALLE2, opaque, enc(bw_mask((256, 256), (10, 10, 50, 50))))
    assert p.image_mimes == ["image/png"] and Image.open(io.BytesIO(p.images[0])).mode == "RGBA"


async def test_opaque_png_goes_as_jpeg_where_accepted(imaging):
    p = await prepare_edit(imaging, GPT, enc(Image.new("RGB", (300, 200), "blue")), operation="variation")
    assert p.image_mimes == ["image/jpeg"]


async def test_image_and_mask_decoded_together_image_error_first(imaging):
    # both are decoded at once (speed); a bad image still reports the image, not the mask
    with pytest.raises(ImageInputError, match="PNG"):
        await prepare_edit(imaging, GPT, b"just text", b"also not an image")
    with pytest.raises(ImageInputError, match="PNG"):
        await prepare_edit(imaging, GPT, enc(Image.new("RGB", (64, 64))), b"just text")


async def test_painted_speck_that_vanishes_at_upload_size_says_so(imaging):
    """The upload mask is made straight at the upload's size; when nothing painted is left
    there, the message tells a speck (paint more) from a mask that marks nothing."""
    big = Image.new("RGB", (4000, 2000), "white")
    with pytest.raises(ImageInputError, match="vanished"):
        await prepare_edit(imaging, GPT, enc(big, "JPEG"), enc(bw_mask((4000, 2000), (100, 100, 101, 101))))
    with pytest.raises(ImageInputError, match="marks nothing"):
        await prepare_edit(imaging, GPT, enc(big, "JPEG"), enc(Image.new("L", (4000, 2000), 0)))


async def test_image_and_mask_errors_come_in_order(imaging):
    """Made side by side, but a bad image is reported before a bad mask, and a bad mask alone
    still fails the preparation."""
    rnd = random.Random(3)
    noise = Image.frombytes("RGB", (64, 64), bytes(rnd.randrange(60, 200) for _ in range(64 * 64 * 3)))
    tight = replace(GPT, edit_max_bytes=10)
    with pytest.raises(ImageInputError, match="cannot be made smaller"):
        await prepare_edit(imaging, tight, enc(Image.new("RGB", (64, 64))), enc(noise))
    with pytest.raises(ImageInputError, match="black"):
        await prepare_edit(imaging, GPT, enc(Image.new("RGB", (64, 64))), enc(noise))


def photo(size) -> Image.Image:
    """Smooth colour with detail, so a JPEG of it is photo-like."""
    r = Image.linear_gradient("L").resize(size)
    g = Image.linear_gradient("L").rotate(90).resize(size)
    b = Image.effect_noise(size, 30)
    return Image.merge("RGB", (r, g, b))


async def test_a_large_jpeg_is_uploaded_from_a_smaller_decode(imaging):
    """A 4000x3000 JPEG for a 2048-edge model: decoded at half size and sent as it is
    (2000x1500), the full decode left for paste-back, made once however many ask."""
    data = enc(photo((4000, 3000)), "JPEG", quality=90)
    calls = []
    decode = imaging.decode

    async def counted(*a, **k):
        calls.append(1)
        return await decode(*a, **k)

    imaging.decode = counted
    p = await prepare_edit(imaging, GPT, data, enc(bw_mask((4000, 3000), (1000, 1000, 2000, 2000))))
    assert calls == [1]  # the mask's; the photo was decoded smaller
    assert p.upload_size == (2000, 1500) and p.placement == (0, 0, 2000, 1500)
    assert opened(p.images[0]).size == (2000, 1500) and opened(p.mask).size == (2000, 1500)
    assert p.image_mimes == ["image/jpeg"] and not p.warnings
    assert p.original is None and p.original_size == (4000, 3000)
    m = opened(p.mask)
    assert m.getpixel((750, 750))[3] == 0 and m.getpixel((250, 250))[3] == 255
    import asyncio

    first, second = await asyncio.gather(p.original_picture(imaging), p.original_picture(imaging))
    assert first is second is p.original and first.size == (4000, 3000) and len(calls) == 2
    assert first.tobytes() == (await decode(data)).tobytes()
    assert p.original_source is None


async def test_the_smaller_decode_is_resized_when_it_is_over_the_edge(imaging):
    data = enc(photo((5000, 2500)), "JPEG", quality=90)  # half: 2500x1250, over 2048
    p = await prepare_edit(imaging, GPT, data, operation="variation")
    assert p.upload_size == (2048, 1024) and p.original is None and p.original_size == (5000, 2500)


async def test_jpegs_that_cannot_shrink_enough_and_square_models_decode_in_full(imaging):
    data = enc(photo((3000, 2000)), "JPEG", quality=90)  # half would be 1500: too short of 2048
    p = await prepare_edit(imaging, GPT, data, operation="variation")
    assert p.upload_size == (2048, 1365) and p.original.size == (3000, 2000)
    data = enc(photo((2400, 2400)), "JPEG", quality=90)  # dall-e-2: square, 1024 edge
    p = await prepare_edit(imaging, DALLE2, data, operation="variation")
    assert p.upload_size == (1024, 1024) and p.original.size == (2400, 2400)
