"""From the API's bytes to what the user gets: paste-back, framing, size, parameters."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from imagesynth.imaging.pillow import PillowImaging
from imagesynth.models import profile_for
from imagesynth.finish import finish_image
from imagesynth.pngmeta import read_params
from imagesynth.prepare import prepare_edit
from imagesynth.sizes import SizePlan

DALLE2, GPT = profile_for("dall-e-2"), profile_for("gpt-image-1")
GREEN = (0, 250, 0, 255)


@pytest.fixture
def imaging():
    return PillowImaging()


def enc(im: Image.Image, fmt="PNG") -> bytes:
    b = io.BytesIO()
    im.save(b, fmt)
    return b.getvalue()


def gradient(size) -> Image.Image:
    w, h = size
    return Image.merge("RGBA", (
        Image.linear_gradient("L").resize(size), Image.linear_gradient("L").rotate(90).resize(size),
        Image.new("L", size, 90), Image.new("L", size, 255)))


def answer(size, colour=GREEN) -> bytes:
    return enc(Image.new("RGBA", size, colour))


def plan(target=None, generated=(1024, 1024), crop=None) -> SizePlan:
    return SizePlan(target=target, request="x".join(map(str, generated)), generated=generated, crop=crop)


async def test_generation_crop_and_resample(imaging):
    im = Image.new("RGBA", (1536, 1024), "blue")
    im.paste("red", (256, 0, 1280, 1024))  # the centre square is red
    g = await finish_image(imaging, enc(im), plan=plan((256, 256), (1536, 1024), (256, 0, 1280, 1024)),
                           params={"prompt": "p"})
    assert (g.width, g.height) == (256, 256) and g.picture.size == (256, 256)
    assert g.picture.getpixel((0, 128))[:3] == (255, 0, 0) and g.mime == "image/png"


async def test_crop_box_scaled_when_answer_has_another_size(imaging):
    im = Image.new("RGBA", (768, 512), "blue")
    im.paste("red", (128, 0, 640, 512))
    g = await finish_image(imaging, enc(im), plan=plan((64, 64), (1536, 1024), (256, 0, 1280, 1024)), params={})
    assert g.picture.getpixel((1, 32))[:3] == (255, 0, 0)


async def test_no_target_keeps_the_models_size(imaging):
    g = await finish_image(imaging, answer((1024, 1536)), plan=SizePlan(None, "auto", None), params={})
    assert (g.width, g.height) == (1024, 1536)


async def test_params_written_into_png_without_credentials(imaging):
    g = await finish_image(imaging, answer((64, 64)), plan=plan((32, 32), (64, 64)),
                           params={"prompt": "a hat", "model": "gpt-image-1", "api_key": "sk-secret-123456789"})
    assert read_params(g.data) == {"prompt": "a hat", "model": "gpt-image-1"}
    assert b"sk-secret" not in g.data and "api_key" not in g.params
    assert Image.open(io.BytesIO(g.data)).size == (32, 32)


@pytest.mark.parametrize("fmt,magic,mime", [("jpeg", b"\xff\xd8\xff", "image/jpeg"), ("webp", b"RIFF", "image/webp"),
                                            ("jpg", b"\xff\xd8\xff", "image/jpeg")])
async def test_other_output_formats(imaging, fmt, magic, mime):
    g = await finish_image(imaging, answer((64, 64)), plan=plan(None, (64, 64)), params={"prompt": "p"},
                           output_format=fmt)
    assert g.data.startswith(magic) and g.mime == mime


async def test_answer_in_jpeg_or_webp_is_decoded(imaging):
    for fmt in ("JPEG", "WEBP"):
        g = await finish_image(imaging, enc(Image.new("RGB", (64, 64), "red"), fmt), plan=plan(None, (64, 64)), params={})
        assert g.width == 64


async def test_edit_pastes_original_back_outside_mask(imaging):
    original = gradient((300, 200))
    original.paste((0, 0, 0, 0), (100, 50, 200, 150))
    prepared = await prepare_edit(imaging, GPT, enc(original))
    # the model repainted everything green (GPT models do change pixels outside the mask)
    g = await finish_image(imaging, answer((1536, 1024)), plan=SizePlan(None, "auto", None), params={},
                           prepared=prepared, feather=4)
    assert g.picture.size == (300, 200)
    src = prepared.original
    for xy in [(0, 0), (99, 100), (200, 100), (150, 49), (299, 199)]:
        assert g.picture.getpixel(xy) == src.getpixel(xy), xy
    assert g.picture.getpixel((150, 100)) == GREEN
    assert g.params["pasted_back"] is True


async def test_a_result_with_no_transparency_is_written_without_alpha(imaging):
    """finish_image encodes with keep_alpha=False: an opaque edit result is an RGB PNG (IHDR
    colour type 2), one the model left translucent stays RGBA (6)."""
    original = Image.new("RGB", (60, 40), (200, 30, 30))
    mask = Image.new("RGBA", (60, 40), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (10, 10, 30, 30))
    prepared = await prepare_edit(imaging, GPT, enc(original, "JPEG"), enc(mask))
    opaque = await finish_image(imaging, answer((1536, 1024)), plan=SizePlan(None, "auto", None), params={},
                                prepared=prepared)
    assert opaque.data[25] == 2 and opaque.mime == "image/png"
    assert Image.open(io.BytesIO(opaque.data)).getpixel((20, 20)) == GREEN[:3]
    faded = await finish_image(imaging, answer((1536, 1024), (0, 250, 0, 100)), plan=SizePlan(None, "auto", None),
                               params={}, prepared=prepared, paste_back=False)
    assert faded.data[25] == 6


async def test_edit_without_paste_back_keeps_the_models_pixels(imaging):
    prepared = await prepare_edit(imaging, GPT, enc(gradient((300, 200)).copy()), enc(
        Image.new("L", (300, 200), 255)))
    g = await finish_image(imaging, answer((1536, 1024)), plan=SizePlan(None, "auto", None), params={},
                           prepared=prepared, paste_back=False)
    assert g.picture.getpixel((0, 0)) == GREEN
    assert abs(g.width / g.height - 1.5) < 0.01  # the original's aspect, at the model's resolution


async def test_dalle2_square_padding_is_removed(imaging):
    original = Image.new("RGBA", (300, 150), (10, 20, 30, 255))
    original.paste((0, 0, 0, 0), (0, 0, 50, 50))
    prepared = await prepare_edit(imaging, DALLE2, enc(original))
    assert prepared.placement == (0, 75, 300, 150)
    # the answer: padding bands red (must vanish), the original's area green
    ans = Image.new("RGBA", (512, 512), (255, 0, 0, 255))
    ans.paste(GREEN, (0, 128, 512, 384))
    g = await finish_image(imaging, enc(ans), plan=plan(None, (512, 512)), params={}, prepared=prepared, feather=0)
    assert g.picture.size == (300, 150)
    assert g.picture.getpixel((10, 10)) == GREEN  # painted: from the answer, no red band leaked in
    assert g.picture.getpixel((10, 60)) == (10, 20, 30, 255)  # kept: the original
    g2 = await finish_image(imaging, enc(ans), plan=plan(None, (512, 512)), params={}, prepared=prepared,
                            paste_back=False)
    px = [g2.picture.getpixel((x, y))[:3] for x in (0, g2.width - 1) for y in (0, g2.height - 1)]
    assert all(p[0] < 60 for p in px), px


async def test_edit_with_target_size(imaging):
    original = Image.new("RGBA", (400, 200), (10, 20, 30, 255))
    original.paste((0, 0, 0, 0), (150, 50, 250, 150))
    prepared = await prepare_edit(imaging, GPT, enc(original))
    g = await finish_image(imaging, answer((1536, 1024)), plan=plan((256, 256), (1024, 1024)), params={},
                           prepared=prepared)
    assert (g.width, g.height) == (256, 256)
    assert g.picture.getpixel((128, 128))[:3] == GREEN[:3]


async def test_variation_result_is_not_mapped_back(imaging):
    prepared = await prepare_edit(imaging, DALLE2, enc(Image.new("RGB", (300, 200))), operation="variation")
    g = await finish_image(imaging, answer((256, 256)), plan=plan((256, 256), (256, 256)), params={},
                           prepared=prepared)
    assert (g.width, g.height) == (256, 256) and g.picture.getpixel((0, 0)) == GREEN


# --- nothing to change: the API's bytes are kept -------------------------------------------------
async def test_unchanged_result_keeps_the_apis_bytes(imaging, monkeypatch):
    from imagesynth.pngmeta import iter_chunks

    data = enc(gradient((64, 48)))

    async def no_decode(*a, **k):
        raise AssertionError("decoded although nothing changes")

    monkeypatch.setattr(imaging, "decode", no_decode)
    monkeypatch.setattr(imaging, "encode", no_decode)
    g = await finish_image(imaging, data, plan=plan(None, (64, 48)), params={"prompt": "p", "api_key": "sk-x"})
    assert (g.width, g.height) == (64, 48) and g.mime == "image/png"
    assert read_params(g.data)["prompt"] == "p" and "sk-x" not in g.data.decode("latin-1")
    # the image data chunks are the API's, byte for byte
    idat = lambda b: [b[s:e] for kind, _b, s, e, _ok in iter_chunks(b) if kind == b"IDAT"]  # noqa: E731
    assert idat(g.data) == idat(data)
    assert g.picture.getpixel((3, 5)) == gradient((64, 48)).getpixel((3, 5))  # decoded on demand


async def test_kept_when_the_target_is_the_answers_size_and_crop_is_whole(imaging, monkeypatch):
    data = answer((256, 256))
    monkeypatch.setattr(imaging, "decode", None)  # would fail if called
    g = await finish_image(imaging, data, plan=plan((256, 256), (256, 256), (0, 0, 256, 256)), params={})
    assert (g.width, g.height) == (256, 256)


async def test_jpeg_asked_and_answered_is_kept_as_is(imaging):
    data = enc(Image.new("RGB", (40, 30), "red"), "JPEG")
    g = await finish_image(imaging, data, plan=plan(None, (40, 30)), params={}, output_format="jpeg")
    assert g.data == data and g.mime == "image/jpeg"


@pytest.mark.parametrize("case", ["other format", "bytes after IEND", "exif jpeg"])
async def test_not_kept_when_the_decoder_must_look(imaging, case):
    if case == "other format":
        data, fmt = enc(Image.new("RGB", (40, 30), "red"), "JPEG"), "png"
    elif case == "bytes after IEND":
        data, fmt = answer((40, 30)) + b"trailing", "png"
    else:
        im = Image.new("RGB", (40, 30), "red")
        exif = Image.Exif()
        exif[0x0112] = 6  # rotated: the decoder turns it upright
        b = io.BytesIO()
        im.save(b, "JPEG", exif=exif.tobytes())
        data, fmt = b.getvalue(), "jpeg"
    g = await finish_image(imaging, data, plan=plan(None, (40, 30)), params={}, output_format=fmt)
    assert g.data != data
    assert Image.open(io.BytesIO(g.data)).format == fmt.upper()
    if case == "exif jpeg":
        assert (g.width, g.height) == (30, 40)


async def test_truncated_answer_still_fails(imaging):
    from imagesynth.errors import ImageInputError

    data = enc(gradient((64, 64)))
    with pytest.raises(ImageInputError):
        await finish_image(imaging, data[: len(data) // 2], plan=plan(None, (64, 64)), params={})


async def test_pillow_work_runs_off_the_event_loop_and_cancels(imaging):
    import asyncio
    import threading

    big = gradient((2048, 2048))
    seen = []
    orig = imaging._encode

    def spy(*a):
        seen.append(threading.current_thread() is threading.main_thread())
        return orig(*a)

    imaging._encode = spy
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    t = asyncio.create_task(ticker())
    await imaging.encode(big, "png")
    t.cancel()
    assert seen == [False] and ticks > 0  # the loop kept running meanwhile
    task = asyncio.create_task(imaging.encode(big, "png"))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_paste_back_decodes_a_large_jpeg_in_full_when_the_first_result_is_finished(imaging):
    """prepare_edit sent a 4000x3000 JPEG from its half-size decode; paste-back puts the
    result into the full-size original, whose pixels outside the mask are kept exactly."""
    size = (4000, 3000)
    src = Image.merge("RGB", (Image.linear_gradient("L").resize(size), Image.new("L", size, 60),
                              Image.effect_noise(size, 30)))
    data = enc(src, "JPEG")
    mask = Image.new("L", size, 0)
    mask.paste(255, (1000, 1000, 2000, 2000))
    prepared = await prepare_edit(imaging, GPT, data, enc(mask))
    assert prepared.original is None and prepared.upload_size == (2000, 1500)
    g = await finish_image(imaging, answer((1536, 1024)), plan=SizePlan(None, "auto", None), params={},
                           prepared=prepared, feather=4)
    assert g.picture.size == size and prepared.original.size == size
    full = await imaging.decode(data)
    for xy in [(0, 0), (999, 1500), (2001, 1500), (3999, 2999), (1500, 999)]:
        assert g.picture.getpixel(xy)[:3] == full.getpixel(xy), xy
    assert g.picture.getpixel((1500, 1500)) == GREEN


async def test_a_failed_full_decode_at_paste_back_still_delivers_the_image(imaging):
    """The full decode of a large JPEG comes after the model has answered: if it fails, the paid
    image is delivered without paste-back, and says so, rather than lost."""
    size = (4000, 3000)
    data = enc(Image.merge("RGB", (Image.linear_gradient("L").resize(size), Image.new("L", size, 60),
                                   Image.effect_noise(size, 30))), "JPEG")
    mask = Image.new("L", size, 0)
    mask.paste(255, (1000, 1000, 2000, 2000))
    prepared = await prepare_edit(imaging, GPT, data, enc(mask))
    assert prepared.original is None

    decode = imaging.decode

    async def out_of_memory(got, *a, **k):
        if bytes(got) == data:  # the original's full decode; the model's answer decodes as ever
            raise MemoryError()
        return await decode(got, *a, **k)

    imaging.decode = out_of_memory
    g = await finish_image(imaging, answer((1536, 1024)), plan=SizePlan(None, "auto", None), params={},
                           prepared=prepared, feather=4)
    assert g.picture.size == size and g.picture.getpixel((10, 10)) == GREEN
    assert g.params["pasted_back"] is False
    assert any("could not be decoded in full" in w and "MemoryError" in w for w in g.params["warnings"])
