"""The contract every ``Imaging`` implementation must meet, as plain async checks.

Written against the interface only, and importable without Pillow or pytest, so
the very same checks run on ``PillowImaging`` under pytest
(tests/test_imaging_pillow.py) and on the browser-canvas implementation inside
a Pyodide page.  Use::

    from imaging_contract import CHECKS, run_all
    failures = await run_all(imaging)       # [(name, message), ...]; empty = pass

Pixels are read back by encoding to PNG and decoding that with the small
pure-Python PNG reader below (the interface has no pixel accessor; it needs
none).  Non-PNG samples are embedded (made by tests/make_contract_fixtures.py).
"""

from __future__ import annotations

import struct
import traceback
import zlib
from base64 import b64decode

from imagesynth.errors import ImageInputError
from imagesynth.imaging.base import Limits

# BEGIN FIXTURES
FIXTURES = {
    "jpeg": b64decode(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAIBAQEBAQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJ"
        "BwYGCAsICQoKCgoKBggLDAsKDAkKCgr/2wBDAQICAgICAgUDAwUKBwYHCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoK"
        "CgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgr/wAARCAAQACADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAA"
        "AAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAk"
        "M2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKT"
        "lJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QA"
        "HwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdh"
        "cRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hp"
        "anN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk"
        "5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwD4vooor+Uz/fw+Q6KKK/6qD/mvP//Z"
    ),
    "jpeg_exif6": b64decode(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/4QAiRXhpZgAATU0AKgAAAAgAAQESAAMAAAABAAYAAAAAAAD/2wBDAAIBAQEB"
        "AQIBAQECAgICAgQDAgICAgUEBAMEBgUGBgYFBgYGBwkIBgcJBwYGCAsICQoKCgoKBggLDAsKDAkKCgr/2wBDAQIC"
        "AgICAgUDAwUKBwYHCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgr/wAAR"
        "CAAQACADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQA"
        "AAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdI"
        "SUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXG"
        "x8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL"
        "/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcY"
        "GRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOk"
        "paanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwD4"
        "vooor+Uz/fw+Q6KKK/6qD/mvP//Z"
    ),
    "webp_lossless_rgba": b64decode(
        "UklGRjoAAABXRUJQVlA4TC0AAAAvB8ABEBcgkE3xF0JCghRilCDbNrTtGBcQFD1neoDa/yAQIEya1Ckiov9BzwMA"
    ),
    "webp_animated": b64decode(
        "UklGRoQAAABXRUJQVlA4WAoAAAACAAAABwAABwAAQU5JTQYAAAAAAAAAAABBTk1GKAAAAAAAAAAAAAcAAAcAAGQA"
        "AAJWUDhMDwAAAC8HwAEABxD9j/4HIqL/AQBBTk1GKAAAAAAAAAAAAAcAAAcAAGQAAABWUDhMDwAAAC8HwAEAB9D/"
        "iP4HIqL/AQA="
    ),
    "gif_animated": b64decode(
        "R0lGODlhCAAIAIEAAP8AAAAAAAAAAAAAACH5BAAKAAAALAAAAAAIAAgAAAgPAAEIHEiwoMGDCBMqTBgQACH5BAEK"
        "AAEALAAAAAAIAAgAgQD/AAAAAAAAAAAAAAgPAAEIHEiwoMGDCBMqTBgQADs="
    ),
    "gif_transparent": b64decode(
        "R0lGODlhCAAIAIEAAAAAAP8AAAAAAAAAACH5BAEAAAAALAAAAAAIAAgAAAgbAAEIBBCgYICBBA0iNHhwIMOFCh1G"
        "FPhQYsGAADs="
    ),
    "bmp": b64decode(
        "Qk1OAAAAAAAAADYAAAAoAAAABAAAAAIAAAABABgAAAAAABgAAADEDgAAxA4AAAAAAAAAAAAAAAD/AAD//wAA/wAA"
        "AAD/AAD//wAA/wAA"
    ),
    "tiff": b64decode(
        "SUkqAAgAAAAKAAABBAABAAAABAAAAAEBBAABAAAAAgAAAAIBAwADAAAAhgAAAAMBAwABAAAAAQAAAAYBAwABAAAA"
        "AgAAABEBBAABAAAAjAAAABUBAwABAAAAAwAAABYBBAABAAAAAgAAABcBBAABAAAAGAAAABwBAwABAAAAAQAAAAAA"
        "AAAIAAgACAD/AAD/AAAAAP8AAP//AAD/AAAAAP8AAP8="
    ),
}
# END FIXTURES

RED, GREEN, BLUE = (255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255)


# --- a tiny PNG writer and reader (pure Python, 8-bit, no interlace) -------------------------
def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def make_png(width: int, height: int, pixel, *, declared: tuple[int, int] | None = None) -> bytes:
    """RGBA PNG whose pixel (x, y) is ``pixel(x, y)``.  ``declared`` lies in the header."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            raw.extend(pixel(x, y))
    dw, dh = declared or (width, height)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", dw, dh, 8, 6, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(bytes(raw))) + _chunk(b"IEND", b""))


def solid_png(width: int, height: int, rgba) -> bytes:
    return make_png(width, height, lambda x, y: rgba)


def rect_png(width: int, height: int, box, inside, outside) -> bytes:
    l, t, r, b = box
    return make_png(width, height, lambda x, y: inside if l <= x < r and t <= y < b else outside)


class Pixels:
    def __init__(self, width: int, height: int, rgba: bytes):
        self.width, self.height, self.rgba = width, height, rgba

    @property
    def size(self):
        return self.width, self.height

    def __getitem__(self, xy):
        x, y = xy
        i = 4 * (y * self.width + x)
        return tuple(self.rgba[i:i + 4])


def read_png(data: bytes) -> Pixels:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    i, idat, palette, trns = 8, b"", None, None
    while i < len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        kind, body = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0, f"reader handles 8-bit non-interlaced, got {depth} {interlace}"
        elif kind == b"PLTE":
            palette = body
        elif kind == b"tRNS":
            trns = body
        elif kind == b"IDAT":
            idat += body
        i += 12 + n
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * channels
    out, prev = bytearray(), bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        for x in range(w):
            px = line[x * channels:(x + 1) * channels]
            if ctype == 6:
                out.extend(px)
            elif ctype == 2:
                out.extend(px + b"\xff")
            elif ctype == 0:
                out.extend((px[0], px[0], px[0], 255))
            elif ctype == 4:
                out.extend((px[0], px[0], px[0], px[1]))
            else:
                k = px[0]
                out.extend(palette[3 * k:3 * k + 3] + bytes([trns[k] if trns and k < len(trns) else 255]))
    return Pixels(w, h, bytes(out))


async def pixels(imaging, pic) -> Pixels:
    px = read_png(await imaging.encode(pic, "png"))
    assert px.size == tuple(imaging.size(pic)), f"encoded size {px.size} != size() {imaging.size(pic)}"
    return px


def near(a, b, tol=40) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b))


async def refused(coro, *words: str) -> ImageInputError:
    """Awaits ``coro``, which must raise ImageInputError whose message has all ``words``."""
    try:
        await coro
    except ImageInputError as exc:
        msg = str(exc).lower()
        for w in words:
            assert w.lower() in msg, f"message {str(exc)!r} should mention {w!r}"
        return exc
    raise AssertionError("expected ImageInputError, got success")


# --- decoding ---------------------------------------------------------------------------------
async def check_decode_png_exact(imaging):
    data = make_png(7, 5, lambda x, y: (x * 30, y * 50, 100, 255 if x < 4 else 60))
    pic = await imaging.decode(data)
    assert imaging.size(pic) == (7, 5)
    px = await pixels(imaging, pic)
    assert px[0, 0] == (0, 0, 100, 255) and px[6, 4] == (180, 200, 100, 60), (px[0, 0], px[6, 4])
    assert await imaging.has_transparency(pic)


async def check_decode_jpeg(imaging):
    pic = await imaging.decode(FIXTURES["jpeg"])
    assert imaging.size(pic) == (32, 16)
    px = await pixels(imaging, pic)
    assert near(px[4, 8], RED) and near(px[28, 8], BLUE), (px[4, 8], px[28, 8])
    assert not await imaging.has_transparency(pic)


async def check_exif_orientation(imaging):
    # stored 32x16, left half red, EXIF orientation 6: shown 16x32 with the red half on top
    pic = await imaging.decode(FIXTURES["jpeg_exif6"])
    assert imaging.size(pic) == (16, 32), imaging.size(pic)
    px = await pixels(imaging, pic)
    assert near(px[8, 4], RED) and near(px[8, 28], BLUE), (px[8, 4], px[8, 28])


async def check_decode_reduced(imaging):
    """None (a full decode is as quick), or a smaller decode no shorter than asked, with the
    size decode gives, turned as decode turns it, the same colours where they are."""
    for name, size, red, blue in (("jpeg", (32, 16), (0.1, 0.5), (0.9, 0.5)),
                                  ("jpeg_exif6", (16, 32), (0.5, 0.1), (0.5, 0.9))):
        got = await imaging.decode_reduced(FIXTURES[name], 4)
        if got is None:
            continue
        pic, full = got
        w, h = imaging.size(pic)
        assert full == size and max(w, h) >= 4 and (w, h) != size, (name, full, (w, h))
        assert (w > h) == (size[0] > size[1]), (name, (w, h))
        px = await pixels(imaging, pic)
        assert near(px[int(red[0] * w), int(red[1] * h)], RED, 40), (name, px)
        assert near(px[int(blue[0] * w), int(blue[1] * h)], BLUE, 40), (name, px)
    assert await imaging.decode_reduced(make_png(64, 64, lambda x, y: (0, 0, 0, 255)), 4) is None


async def check_decode_webp_alpha(imaging):
    pic = await imaging.decode(FIXTURES["webp_lossless_rgba"])
    assert imaging.size(pic) == (8, 8)
    px = await pixels(imaging, pic)
    assert px[7, 0] == (10, 20, 30, 255), px[7, 0]
    assert px[0, 0][3] == 0 and px[6, 6] == (1, 2, 3, 128), (px[0, 0], px[6, 6])


async def check_webp_first_frame(imaging):
    px = await pixels(imaging, await imaging.decode(FIXTURES["webp_animated"]))
    assert near(px[3, 3], RED, 8), px[3, 3]


async def check_gif_first_frame(imaging):
    px = await pixels(imaging, await imaging.decode(FIXTURES["gif_animated"]))
    assert px.size == (8, 8) and near(px[3, 3], RED, 8), px[3, 3]


async def check_gif_transparency(imaging):
    pic = await imaging.decode(FIXTURES["gif_transparent"])
    px = await pixels(imaging, pic)
    assert px[1, 1][3] == 0 and near(px[6, 1], RED, 8), (px[1, 1], px[6, 1])


async def check_refused_formats(imaging):
    samples = {
        "bmp": FIXTURES["bmp"],
        "tiff": FIXTURES["tiff"],
        "svg": b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        "svg2": b"  <svg><script>alert(1)</script></svg>",
        "text": b"hello, this is not an image at all\n" * 4,
        "html": b"<!doctype html><html><body><img src=x></body></html>",
        "heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
    }
    for name, data in samples.items():
        exc = await refused(imaging.decode(data), "png", "jpeg")
        assert "webp" in str(exc).lower(), f"{name}: {exc}"
    await refused(imaging.decode(b""))


async def check_format_allow_list_is_per_call(imaging):
    await refused(imaging.decode(FIXTURES["gif_animated"], Limits(formats=("png", "jpeg"))), "png")


async def check_byte_limit(imaging):
    data = solid_png(16, 16, RED)
    await refused(imaging.decode(data, Limits(max_bytes=len(data) - 1)), "big")
    await imaging.decode(data, Limits(max_bytes=len(data)))


async def check_pixel_limit(imaging):
    data = solid_png(20, 10, RED)
    await refused(imaging.decode(data, Limits(max_pixels=199)), "pixels")
    await imaging.decode(data, Limits(max_pixels=200))


async def check_declared_huge_dimensions(imaging):
    # 100 000 x 100 000 declared, a few bytes of data: refused from the header, before decoding
    data = make_png(2, 2, lambda x, y: RED, declared=(100_000, 100_000))
    await refused(imaging.decode(data), "pixels")


async def check_truncated(imaging):
    png = make_png(32, 32, lambda x, y: ((x * 37 + y * 11) % 256, (x * y) % 256, y * 8, 255))
    await refused(imaging.decode(png[: len(png) // 2]))
    await refused(imaging.decode(png[:30]))
    jpeg = FIXTURES["jpeg"]
    await refused(imaging.decode(jpeg[: len(jpeg) * 2 // 3]))


# --- masks ------------------------------------------------------------------------------------
async def _assert_rect_mask(imaging, mask, size, box):
    """API convention: alpha 0 inside ``box`` (paint), 255 outside, nothing in between."""
    assert imaging.size(mask) == size, imaging.size(mask)
    px = await pixels(imaging, mask)
    l, t, r, b = box
    for y in range(size[1]):
        for x in range(size[0]):
            a = px[x, y][3]
            want = 0 if l <= x < r and t <= y < b else 255
            assert a == want, f"mask alpha at {(x, y)} is {a}, expected {want}"


async def check_mask_alpha_convention(imaging):
    src = await imaging.decode(rect_png(16, 12, (4, 2, 10, 8), (0, 0, 0, 0), (90, 90, 90, 255)))
    mask, warnings = await imaging.normalize_mask(src, (16, 12))
    assert warnings == []
    await _assert_rect_mask(imaging, mask, (16, 12), (4, 2, 10, 8))


async def check_mask_black_white(imaging):
    src = await imaging.decode(rect_png(16, 12, (4, 2, 10, 8), (255, 255, 255, 255), (0, 0, 0, 255)))
    mask, _ = await imaging.normalize_mask(src, (16, 12))
    await _assert_rect_mask(imaging, mask, (16, 12), (4, 2, 10, 8))


async def check_mask_near_black_white(imaging):
    # a mask saved as JPEG or drawn with an off-white brush still reads clearly
    src = await imaging.decode(rect_png(16, 12, (4, 2, 10, 8), (240, 236, 244, 255), (12, 18, 9, 255)))
    mask, _ = await imaging.normalize_mask(src, (16, 12))
    await _assert_rect_mask(imaging, mask, (16, 12), (4, 2, 10, 8))


async def check_mask_semi_transparent_threshold(imaging):
    src = await imaging.decode(make_png(4, 1, lambda x, y: (0, 0, 0, (0, 100, 160, 255)[x])))
    px = await pixels(imaging, (await imaging.normalize_mask(src, (4, 1)))[0])
    assert [px[x, 0][3] for x in range(4)] == [0, 0, 255, 255]


async def check_mask_photo_refused(imaging):
    photo = await imaging.decode(make_png(32, 32, lambda x, y: (60 + x * 4, 80 + y * 3, 120, 255)))
    await refused(imaging.normalize_mask(photo, (32, 32)), "mask", "black", "white")
    grey = await imaging.decode(solid_png(16, 16, (128, 128, 128, 255)))
    await refused(imaging.normalize_mask(grey, (16, 16)), "mask")


async def check_mask_resized_with_warning(imaging):
    src = await imaging.decode(rect_png(8, 8, (0, 0, 4, 8), (255, 255, 255, 255), (0, 0, 0, 255)))
    mask, warnings = await imaging.normalize_mask(src, (32, 16))
    assert imaging.size(mask) == (32, 16) and warnings and isinstance(warnings[0], str)
    px = await pixels(imaging, mask)
    assert px[2, 8][3] == 0 and px[30, 8][3] == 255
    assert {px[x, y][3] for x in range(32) for y in range(16)} <= {0, 255}


async def check_mask_scaled_down_from_a_processed_picture(imaging):
    """A mask picture that came from drawing, not decoding (the page's editor hands one over),
    scaled down to an upload's size: the alpha convention and black/white both still read."""
    for fill, rest in (((0, 0, 0, 0), (0, 0, 0, 255)), ((255, 255, 255, 255), (0, 0, 0, 255))):
        decoded = await imaging.decode(rect_png(64, 32, (0, 0, 32, 32), fill, rest))
        drawn = await imaging.crop(decoded, (0, 0, 64, 32))  # same pixels, a new picture
        mask, warnings = await imaging.normalize_mask(drawn, (16, 8))
        assert warnings and imaging.size(mask) == (16, 8)
        await _assert_rect_mask(imaging, mask, (16, 8), (0, 0, 8, 8))
    speckled = await imaging.crop(await imaging.decode(make_png(
        64, 32, lambda x, y: (0, 0, 0, 0 if (x, y) == (40, 10) else 255))), (0, 0, 64, 32))
    mask, _ = await imaging.normalize_mask(speckled, (16, 8))  # one transparent pixel: too small
    assert not await imaging.has_transparency(mask)


async def check_encode_mask(imaging):
    """The mask's upload: an RGBA PNG (the API wants alpha) with exactly the mask's alpha."""
    src = await imaging.decode(rect_png(16, 12, (4, 2, 10, 8), (0, 0, 0, 0), (90, 90, 90, 255)))
    mask, _ = await imaging.normalize_mask(src, (16, 12))
    data = await imaging.encode_mask(mask)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[25] == 6, "an 8-bit RGBA PNG"  # IHDR colour type
    await _assert_rect_mask(imaging, await imaging.decode(data), (16, 12), (4, 2, 10, 8))


async def check_mask_from_alpha(imaging):
    img = await imaging.decode(rect_png(10, 10, (2, 3, 6, 9), (50, 60, 70, 0), (200, 10, 10, 255)))
    assert await imaging.has_transparency(img)
    await _assert_rect_mask(imaging, await imaging.mask_from_alpha(img), (10, 10), (2, 3, 6, 9))
    opaque = await imaging.decode(solid_png(4, 4, RED))
    assert not await imaging.has_transparency(opaque)
    assert not await imaging.has_transparency(await imaging.mask_from_alpha(opaque))


async def check_invert_mask(imaging):
    src = await imaging.decode(rect_png(8, 6, (2, 1, 5, 4), (0, 0, 0, 0), (0, 0, 0, 255)))
    mask, _ = await imaging.normalize_mask(src, (8, 6))
    inv = await imaging.invert_mask(mask)
    px, pi = await pixels(imaging, mask), await pixels(imaging, inv)
    for y in range(6):
        for x in range(8):
            assert px[x, y][3] + pi[x, y][3] == 255, (x, y, px[x, y], pi[x, y])
    await _assert_rect_mask(imaging, await imaging.invert_mask(inv), (8, 6), (2, 1, 5, 4))


# --- compositing and geometry -----------------------------------------------------------------
async def _paste_case(imaging, feather):
    size, box = (40, 30), (10, 5, 34, 27)
    original = await imaging.decode(make_png(40, 30, lambda x, y: (x * 6, y * 8, 77, 255)))
    edited = await imaging.decode(solid_png(40, 30, (0, 250, 0, 255)))
    mask, _ = await imaging.normalize_mask(
        await imaging.decode(rect_png(40, 30, box, (255, 255, 255, 255), (0, 0, 0, 255))), size)
    out = await pixels(imaging, await imaging.paste_back(original, edited, mask, feather))
    orig = await pixels(imaging, original)
    return size, box, out, orig


async def check_paste_back_outside_exact(imaging):
    for feather in (0, 4):
        (w, h), (l, t, r, b), out, orig = await _paste_case(imaging, feather)
        for y in range(h):
            for x in range(w):
                inside = l <= x < r and t <= y < b
                if not inside:
                    assert out[x, y] == orig[x, y], f"feather {feather}: outside pixel {(x, y)} changed"
                elif min(x - l, r - 1 - x, y - t, b - 1 - y) > feather:
                    assert out[x, y] == (0, 250, 0, 255), f"feather {feather}: deep inside {(x, y)} = {out[x, y]}"


async def check_paste_back_feather_blends(imaging):
    (w, h), (l, t, r, b), out, orig = await _paste_case(imaging, 6)
    y = (t + b) // 2
    edge = out[l, y]  # first painted column: mostly original, on its way to the edit
    assert edge != (0, 250, 0, 255), "feathered edge should blend, not switch"
    greens = [out[x, y][1] for x in range(l, l + 8)]
    assert greens == sorted(greens), f"blend should ramp towards the edit: {greens}"


async def check_paste_back_feather_is_local(imaging):
    """The feather around a painted area does not depend on paint far from it: a stroke in the
    middle of a tall picture gives the same pixels around it with or without a dot painted in
    its first and last rows (the canvas backend blurs only the band of painted rows, and the
    dots make that band the whole picture; a band off by a row, or cut too close, differs)."""
    w, h, (l, t, r, b) = 20, 80, (4, 40, 16, 46)

    async def around(dots):
        def alpha(x, y):
            painted = (l <= x < r and t <= y < b) or (dots and x == 0 and y in (0, h - 1))
            return (0, 0, 0, 0 if painted else 255)
        original = await imaging.decode(make_png(w, h, lambda x, y: (x * 12, 200 - x * 9, y * 3, 255)))
        edited = await imaging.decode(solid_png(w, h, (0, 250, 0, 255)))
        norm, _ = await imaging.normalize_mask(await imaging.decode(make_png(w, h, alpha)), (w, h))
        out = await pixels(imaging, await imaging.paste_back(original, edited, norm, 6))
        return [out[x, y] for y in range(t - 4, b + 4) for x in range(w)]

    assert await around(False) == await around(True)


async def check_paste_back_fills_transparent_hole(imaging):
    """Filling an image's own transparent part: nothing is pasted back where the original is
    transparent, so a feathered edge leaves no transparent ring; opaque pixels stay exact."""
    box = (10, 5, 34, 27)
    original = await imaging.decode(rect_png(40, 30, box, (0, 0, 0, 0), (200, 40, 90, 255)))
    edited = await imaging.decode(solid_png(40, 30, (0, 250, 0, 255)))
    mask = await imaging.mask_from_alpha(original)
    out = await pixels(imaging, await imaging.paste_back(original, edited, mask, 6))
    l, t, r, b = box
    for y in range(30):
        for x in range(40):
            if l <= x < r and t <= y < b:
                assert out[x, y] == (0, 250, 0, 255), f"hole pixel {(x, y)} = {out[x, y]}"
            else:
                assert out[x, y] == (200, 40, 90, 255), f"outside pixel {(x, y)} = {out[x, y]}"


async def check_resize(imaging):
    pic = await imaging.decode(make_png(64, 48, lambda x, y: (x * 4, y * 5, 0, 255)))
    for size in ((32, 24), (17, 5), (100, 100), (1, 1)):
        out = await imaging.resize(pic, size)
        assert imaging.size(out) == size, (size, imaging.size(out))
    solid = await imaging.resize(await imaging.decode(solid_png(30, 30, BLUE)), (7, 7))
    assert near((await pixels(imaging, solid))[3, 3], BLUE, 2)


async def check_crop_and_pad(imaging):
    pic = await imaging.decode(make_png(20, 10, lambda x, y: (x * 10, y * 20, 5, 255)))
    c = await imaging.crop(pic, (5, 2, 15, 8))
    assert imaging.size(c) == (10, 6)
    assert (await pixels(imaging, c))[0, 0] == (50, 40, 5, 255)
    p = await imaging.pad(pic, (30, 30), (5, 10))
    assert imaging.size(p) == (30, 30)
    pp = await pixels(imaging, p)
    assert pp[0, 0][3] == 0 and pp[29, 29][3] == 0, "padding must be transparent"
    assert pp[5, 10] == (0, 0, 5, 255) and pp[24, 19] == (190, 180, 5, 255)


async def check_encode_roundtrip(imaging):
    data = make_png(9, 9, lambda x, y: (x * 28, y * 28, (x + y) * 14, 255 if x % 2 else 30))
    pic = await imaging.decode(data)
    again = await imaging.decode(await imaging.encode(pic, "png"))
    assert (await pixels(imaging, again)).rgba == (await pixels(imaging, pic)).rgba
    solid = await imaging.decode(solid_png(16, 16, (200, 40, 90, 255)))
    for fmt in ("jpeg", "webp"):
        enc = await imaging.encode(solid, fmt)
        back = await pixels(imaging, await imaging.decode(enc))
        assert back.size == (16, 16) and near(back[8, 8], (200, 40, 90, 255), 12), (fmt, back[8, 8])
    assert (await imaging.encode(solid, "jpeg"))[:3] == b"\xff\xd8\xff"
    assert (await imaging.encode(solid, "webp"))[8:12] == b"WEBP"
    await refused(imaging.encode(solid, "bmp"))


async def check_encode_without_keeping_alpha(imaging):
    """Results are encoded with keep_alpha=False: no pixel changes, and a translucent picture
    keeps its alpha (only an opaque one may lose the channel, which it does not use)."""
    opaque = await imaging.decode(make_png(9, 7, lambda x, y: (x * 28, y * 36, 90, 255)))
    translucent = await imaging.decode(make_png(9, 7, lambda x, y: (x * 28, y * 36, 90, 40 if x < 3 else 255)))
    for pic in (opaque, translucent):
        data = await imaging.encode(pic, "png", keep_alpha=False)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert (await pixels(imaging, await imaging.decode(data))).rgba == (await pixels(imaging, pic)).rgba
    assert (await imaging.encode(translucent, "png", keep_alpha=False))[25] == 6, "alpha kept: RGBA"


async def check_warm_upload_then_prepare(imaging):
    """prepare.warm_upload makes the upload ahead (the page, while the user paints): the edit
    prepared after it sends the same bytes as one prepared without it; where the backend keeps
    the picture's resized copy and its encodings, prepare_edit used those, adding none, and a
    resize not asked to keep its copy (prepare_edit's own, paste-back's) kept nothing."""
    import dataclasses  # noqa: PLC0415

    from imagesynth.models import profile_for  # noqa: PLC0415
    from imagesynth.prepare import prepare_edit, warm_upload  # noqa: PLC0415

    profile = dataclasses.replace(profile_for("gpt-image-1"), edit_max_edge=16)  # a 32x16 photo is scaled
    mask = rect_png(32, 16, (4, 4, 12, 12), (0, 0, 0, 0), (0, 0, 0, 255))
    unwarmed = await imaging.decode(FIXTURES["jpeg"])
    fresh = await prepare_edit(imaging, profile, unwarmed, mask)
    picture = await imaging.decode(FIXTURES["jpeg"])
    await warm_upload(imaging, profile, picture)
    warmed = await prepare_edit(imaging, profile, picture, mask)
    assert warmed.upload_size == fresh.upload_size == (16, 8), (warmed.upload_size, fresh.upload_size)
    assert warmed.image_mimes == fresh.image_mimes == ["image/jpeg"]
    assert warmed.images == fresh.images and warmed.mask == fresh.mask
    kept = getattr(picture, "resized", None)
    if kept is not None:  # the canvas backend
        assert list(kept) == [(16, 8)], list(kept)
        assert len(kept[(16, 8)].encodings) == 1, list(kept[(16, 8)].encodings)
        assert unwarmed.resized == {}, "a copy kept that resize was not asked to keep (paste-back's)"


CHECKS = [v for k, v in list(globals().items()) if k.startswith("check_") and callable(v)]


async def run_all(imaging) -> list[tuple[str, str]]:
    """Every check against ``imaging``; returns the failures (name, traceback text)."""
    failures = []
    for check in CHECKS:
        try:
            await check(imaging)
        except Exception:  # noqa: BLE001 - report every failure, not just the first
            failures.append((check.__name__, traceback.format_exc()))
    return failures
