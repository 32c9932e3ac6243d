"""Parameters written into PNGs: read back by us, by Pillow, and never a credential."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from imagesynth.pngmeta import read_params, read_text, scrub, write_params


def png(size=(5, 4)) -> bytes:
    b = io.BytesIO()
    Image.new("RGBA", size, (1, 2, 3, 255)).save(b, "PNG")
    return b.getvalue()


PARAMS = {"prompt": "a café in Kraków, 東京 at night", "model": "gpt-image-1", "size": "1024x1024",
          "seed": 42, "n": 3, "revised_prompt": None, "quality": "high"}


def test_round_trip_and_pixels_unchanged():
    out = write_params(png(), PARAMS)
    assert read_params(out) == PARAMS
    im = Image.open(io.BytesIO(out))
    im.load()
    assert im.size == (5, 4) and im.getpixel((0, 0)) == (1, 2, 3, 255)


def test_other_tools_see_prompt_and_software():
    out = write_params(png(), PARAMS)
    im = Image.open(io.BytesIO(out))
    assert im.info["Description"] == PARAMS["prompt"]
    assert im.info["Software"].startswith("imagesynth")
    assert read_text(out)["Description"] == PARAMS["prompt"]


def test_chunks_sit_before_pixel_data():
    out = write_params(png(), PARAMS)
    assert out.index(b"iTXt") < out.index(b"IDAT")


def test_rewriting_replaces_not_duplicates():
    once = write_params(png(), PARAMS)
    twice = write_params(once, {**PARAMS, "seed": 7})
    assert read_params(twice)["seed"] == 7
    assert twice.count(b"iTXtimagesynth") == 1


def test_long_params_are_compressed():
    big = {"prompt": "a " * 5000}
    out = write_params(png(), big)
    assert read_params(out) == big
    assert len(out) < len(png()) + 2000


@pytest.mark.parametrize("key", ["api_key", "apiKey", "APIKey", "Authorization", "token", "access_token",
                                 "password", "client_secret", "key", "credentials", "cookie"])
def test_credentials_never_written(key):
    out = write_params(png(), {"prompt": "x", key: "hunter2-secret-value", "nested": {key: "v2-secret"}})
    assert b"hunter2" not in out and b"v2-secret" not in out
    assert read_params(out) == {"prompt": "x", "nested": {}}


def test_key_shaped_values_dropped_wherever_they_are():
    out = write_params(png(), {"prompt": "x", "note": "sk-proj-ABCDEFGHIJKLMNOP", "list": ["Bearer sk-abcdefghijk", 1]})
    assert b"sk-" not in out
    assert read_params(out) == {"prompt": "x", "list": [1]}


def test_non_json_values_made_safe():
    assert scrub({"size": (256, 256), "raw": b"\x89PNG", "obj": object}) == {"size": [256, 256], "obj": str(object)}


def test_read_params_of_foreign_or_broken_files():
    assert read_params(b"not a png") is None
    assert read_params(png()) is None
    out = write_params(png(), PARAMS)
    i = out.index(b"iTXtimagesynth")
    broken = out[: i + 20] + b"X" + out[i + 21:]  # CRC now wrong
    assert read_params(broken) is None
    assert read_params(out[: i + 10]) is None  # truncated inside the chunk


def test_zip_bomb_in_text_chunk_is_ignored():
    bomb = zlib.compress(b"{" + b" " * (50 << 20) + b"}")
    body = b"imagesynth\0" + bytes([1, 0]) + b"\0\0" + bomb
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    p = png()
    assert read_params(p[:33] + chunk + p[33:]) is None


def test_write_params_refuses_non_png():
    with pytest.raises(ValueError):
        write_params(b"\xff\xd8\xff", {})
