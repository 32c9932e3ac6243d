"""Hostile images, in the spirit of Pillow's Tests/oss-fuzz: mutated, truncated, lying
and bomb files through ``decode`` and ``prepare_edit``.  The only outcomes allowed are
success or ``ImageInputError`` — never a Pillow exception, a hang or a crash.
Seeded, so a failure reproduces; bounded to a few seconds."""

from __future__ import annotations

import io
import random
import struct
import time
import zlib

import pytest
from PIL import Image

from imagesynth.errors import ImageInputError
from imagesynth.imaging.pillow import PillowImaging
from imagesynth.models import profile_for
from imagesynth.prepare import prepare_edit

SEED = 20260521
# Pillow warns (does not fail) on damaged EXIF; the orientation is then simply not applied
pytestmark = pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
GPT, DALLE2 = profile_for("gpt-image-1"), profile_for("dall-e-2")


def _enc(im, fmt, **kw) -> bytes:
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def seeds() -> dict[str, bytes]:
    rnd = random.Random(SEED)
    noise = Image.frombytes("RGB", (24, 16), bytes(rnd.randrange(256) for _ in range(24 * 16 * 3)))
    rgba = noise.convert("RGBA")
    rgba.paste((0, 0, 0, 0), (4, 4, 12, 12))
    exif = Image.Exif()
    exif[0x0112] = 8
    frames = [noise, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    return {
        "png": _enc(rgba, "PNG"),
        "png_palette": _enc(noise.convert("P"), "PNG", transparency=3),
        "png_grey": _enc(noise.convert("L"), "PNG"),
        "jpeg": _enc(noise, "JPEG", quality=80, exif=exif.tobytes()),
        "jpeg_progressive": _enc(noise, "JPEG", quality=70, progressive=True),
        "webp": _enc(rgba, "WEBP", quality=80),
        "webp_lossless": _enc(rgba, "WEBP", lossless=True),
        "webp_anim": _enc(frames[0], "WEBP", save_all=True, append_images=frames[1:]),
        "gif": _enc(frames[0], "GIF", save_all=True, append_images=frames[1:]),
    }


def bit_flips(data: bytes, rnd: random.Random, count: int):
    for _ in range(count):
        b = bytearray(data)
        for _ in range(rnd.randint(1, 8)):
            i = rnd.randrange(len(b))
            b[i] ^= 1 << rnd.randrange(8)
        yield bytes(b)


def byte_stomps(data: bytes, rnd: random.Random, count: int):
    interesting = [0x00, 0xFF, 0x7F, 0x80, 0x01]
    for _ in range(count):
        b = bytearray(data)
        i = rnd.randrange(len(b))
        n = rnd.randint(1, 4)
        b[i:i + n] = bytes(rnd.choice(interesting) for _ in range(n))
        yield bytes(b)


def truncations(data: bytes):
    step = max(1, len(data) // 60)
    for cut in list(range(0, len(data), step)) + [len(data) - 1, len(data) - 2, 1, 2, 3, 7, 8, 9]:
        yield data[:cut]


def png_chunk_lengths(data: bytes, rnd: random.Random):
    """Every chunk's length field replaced by lies: 0, too short, too long, enormous."""
    i = 8
    while i + 8 <= len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        for lie in (0, max(0, n - 1), n + 1, n + 1000, 0x7FFFFFFF, 0xFFFFFFFF, rnd.randrange(1 << 31)):
            yield data[:i] + struct.pack(">I", lie) + data[i + 4:]
        i += 12 + n


def _chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def huge_declared() -> dict[str, bytes]:
    """Small files whose headers claim enormous images."""
    s = seeds()
    png = s["png"]
    out = {}
    for w, h in ((0x7FFFFFFF, 1), (100_000, 100_000), (65535, 65535), (1, 0x7FFFFFFF), (0, 10)):
        ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
        out[f"png_{w}x{h}"] = png[:8] + _chunk(b"IHDR", ihdr) + png[33:]
    jpeg = bytearray(s["jpeg"])
    sof = jpeg.find(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = struct.pack(">HH", 65500, 65500)
    out["jpeg_65500"] = bytes(jpeg)
    gif = bytearray(s["gif"])
    gif[6:10] = struct.pack("<HH", 65535, 65535)
    out["gif_screen_65535"] = bytes(gif)
    # a 1x1 screen whose first frame claims 65535 x 65535 (decoders allocate for the frame)
    out["gif_frame_65535"] = (b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0, 0, 0)
                              + b"\x2c" + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0)
                              + b"\x02\x02\x44\x01\x00\x3b")
    webp = bytearray(s["webp_anim"])
    if webp[12:16] == b"VP8X":
        webp[24:30] = (16383).to_bytes(3, "little") * 2
        out["webp_vp8x_16384"] = bytes(webp)
    return out


def bomb_png(side=10_000) -> bytes:
    """A real decompression bomb: 100 megapixels of zeros compressed to about 100 kB."""
    comp = zlib.compressobj(9)
    row = b"\0" * (side + 1)  # filter byte + grey pixels
    parts = [comp.compress(row * 500) for _ in range(side // 500)]
    idat = b"".join(parts) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def corpus() -> list[tuple[str, bytes]]:
    rnd = random.Random(SEED)
    out = []
    for name, data in seeds().items():
        out += [(f"{name}/flip{i}", d) for i, d in enumerate(bit_flips(data, rnd, 60))]
        out += [(f"{name}/stomp{i}", d) for i, d in enumerate(byte_stomps(data, rnd, 30))]
        out += [(f"{name}/cut{i}", d) for i, d in enumerate(truncations(data))]
        if name.startswith("png"):
            out += [(f"{name}/len{i}", d) for i, d in enumerate(png_chunk_lengths(data, rnd))]
    out += list(huge_declared().items())
    return out


@pytest.fixture(scope="module")
def imaging():
    return PillowImaging()


async def _only_our_error(coro, name):
    try:
        await coro
    except ImageInputError:
        return False
    except Exception as exc:  # noqa: BLE001 - that is the point of the test
        pytest.fail(f"{name}: {type(exc).__name__}: {exc}")
    return True


async def test_mutated_images_through_decode_and_prepare(imaging):
    started = time.monotonic()
    cases = corpus()
    assert len(cases) > 1000
    decoded = 0
    for i, (name, data) in enumerate(cases):
        decoded += await _only_our_error(imaging.decode(data), name)
        if i % 5 == 0:  # the fitting code too, on a share of them (it decodes again)
            op, profile = ("variation", DALLE2) if i % 2 else ("edit", GPT)
            await _only_our_error(prepare_edit(imaging, profile, data, operation=op), f"prepare {name}")
    assert 0 < decoded < len(cases)  # some mutants still decode, many do not
    assert time.monotonic() - started < 20


async def test_huge_declared_dimensions_refused_from_the_header(imaging):
    for name, data in huge_declared().items():
        t = time.monotonic()
        with pytest.raises(ImageInputError):
            await imaging.decode(data)
        assert time.monotonic() - t < 0.5, name


async def test_decompression_bomb(imaging):
    data = bomb_png()
    assert len(data) < 1_000_000
    t = time.monotonic()
    with pytest.raises(ImageInputError, match="pixels"):
        await imaging.decode(data)
    with pytest.raises(ImageInputError, match="pixels"):
        await prepare_edit(imaging, GPT, data, operation="variation")
    assert time.monotonic() - t < 1


async def test_truncated_images_are_errors_not_grey(imaging):
    """Pillow would pad truncated images if LOAD_TRUNCATED_IMAGES were on; it never is."""
    assert not __import__("PIL.ImageFile").ImageFile.LOAD_TRUNCATED_IMAGES
    for name, data in seeds().items():
        # a GIF cut inside its *second* frame still has a whole first frame: cut in the first
        cut = data[: len(data) * (2 if name == "gif" else 3) // 5]
        with pytest.raises(ImageInputError):
            await imaging.decode(cut)
