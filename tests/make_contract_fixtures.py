"""Regenerates the FIXTURES block of tests/imaging_contract.py.

The contract suite must run where there is no Pillow (the browser), so the
JPEG/WebP/GIF samples it needs are made here once, with Pillow, and embedded as
base64.  Run: .venv/bin/python tests/make_contract_fixtures.py
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

from PIL import Image

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def halves(size=(32, 16)) -> Image.Image:
    im = Image.new("RGB", size, BLUE)
    im.paste(RED, (0, 0, size[0] // 2, size[1]))  # left half red
    return im


def save(im, fmt, **kw) -> bytes:
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def fixtures() -> dict[str, bytes]:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    rgba = Image.new("RGBA", (8, 8), (10, 20, 30, 255))
    rgba.paste((200, 100, 50, 0), (0, 0, 4, 4))
    rgba.paste((1, 2, 3, 128), (4, 4, 8, 8))
    frames = [Image.new("RGB", (8, 8), RED), Image.new("RGB", (8, 8), GREEN)]
    gif_t = Image.new("P", (8, 8), 1)
    gif_t.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    gif_t.paste(0, (0, 0, 4, 8))  # left half index 0 = transparent
    return {
        "jpeg": save(halves(), "JPEG", quality=95),
        "jpeg_exif6": save(halves(), "JPEG", quality=95, exif=exif.tobytes()),
        "webp_lossless_rgba": save(rgba, "WEBP", lossless=True),
        "webp_animated": save(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True, duration=100),
        "gif_animated": save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100),
        "gif_transparent": save(gif_t, "GIF", transparency=0),
        "bmp": save(halves((4, 2)), "BMP"),
        "tiff": save(halves((4, 2)), "TIFF"),
    }


def block() -> str:
    lines = ["FIXTURES = {"]
    for name, data in fixtures().items():
        text = base64.b64encode(data).decode()
        chunks = [text[i:i + 88] for i in range(0, len(text), 88)]
        lines.append(f'    "{name}": b64decode(')
        lines += [f'        "{c}"' for c in chunks]
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(__file__).with_name("imaging_contract.py")
    src = path.read_text()
    src = re.sub(r"# BEGIN FIXTURES\n.*# END FIXTURES", lambda m: f"# BEGIN FIXTURES\n{block()}\n# END FIXTURES",
                 src, flags=re.S)
    path.write_text(src)
