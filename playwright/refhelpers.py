"""Helpers for the reference-image and inpaint browser tests: test pictures, uploads, downloads."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image, ImageDraw

from apphelpers import wait_run_end


def picture(w: int = 256, h: int = 256, *, hole: tuple[int, int, int, int] | None = None,
            mode: str = "RGBA") -> Image.Image:
    """A recognisable test picture: gradient, shapes; ``hole`` is made fully transparent."""
    im = Image.new("RGB", (w, h))
    px = im.load()
    for y in range(h):
        for x in range(w):
            px[x, y] = (int(255 * x / max(1, w - 1)), int(255 * y / max(1, h - 1)), 140)
    d = ImageDraw.Draw(im)
    d.ellipse((w * 0.1, h * 0.1, w * 0.45, h * 0.45), fill=(250, 240, 30))
    d.rectangle((w * 0.55, h * 0.55, w * 0.9, h * 0.85), fill=(20, 30, 200))
    d.line((0, h - 1, w - 1, 0), fill=(0, 0, 0), width=max(2, w // 40))
    im = im.convert(mode)
    if hole is not None:
        im.paste((0, 0, 0, 0), hole)
    return im


def png_bytes(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(im: Image.Image, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def huge_png_header(w: int = 40000, h: int = 40000) -> bytes:
    """A small, well-formed PNG that declares w x h pixels (nobody should decode it)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def upload(page, name: str, data: bytes, mime: str = "image/png") -> None:
    page.set_input_files("#reference-file", files=[{"name": name, "mimeType": mime, "buffer": data}])


def wait_reference(page, timeout: float = 30_000) -> str:
    page.wait_for_selector("body[data-reference]", timeout=timeout)
    return page.get_attribute("body", "data-reference")


def set_task(page, task: str) -> None:
    """Pick a task as a user does: click its tab (the label; its transparent radio covers it)."""
    page.locator(f"label[for=task-{task}]").click()
    page.wait_for_selector(f"#task-{task}:checked", state="attached")
    page.wait_for_selector(f"body[data-task={task}]")


def wait_editor_loaded(page, timeout: float = 30_000) -> None:
    page.wait_for_selector("#inpaint[data-loaded='1'] .me-viewport", timeout=timeout)


def run_and_wait(page, click: str = "#generate", timeout: float = 60_000):
    before = page.locator("#runs .run").count()
    page.click(click)
    page.wait_for_function(f"document.querySelectorAll('#runs .run').length > {before}", timeout=timeout)
    return wait_run_end(page, timeout=timeout)


def download_tile(page, index: int = 0) -> Image.Image:
    """The gallery image ``index`` (0 = newest) as its Download button saves it."""
    with page.expect_download() as dl:
        page.locator("#gallery .tile").nth(index).locator("a[download]").first.click()
    path = Path(dl.value.path())
    im = Image.open(path)
    im.load()
    return im


def diff_outside(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int], margin: int = 0) -> int:
    """Largest channel difference between a and b outside ``box`` (grown by ``margin``)."""
    a, b = a.convert("RGB"), b.convert("RGB")
    assert a.size == b.size, (a.size, b.size)
    l, t, r, btm = box
    l, t, r, btm = l - margin, t - margin, r + margin, btm + margin
    pa, pb = a.load(), b.load()
    worst = 0
    w, h = a.size
    for y in range(0, h):
        for x in range(0, w):
            if l <= x < r and t <= y < btm:
                continue
            worst = max(worst, *(abs(p - q) for p, q in zip(pa[x, y], pb[x, y])))
    return worst


def similarity(a: Image.Image, b: Image.Image) -> float:
    """Pearson correlation of the two pictures' 32x32 greyscale thumbnails (1 = same layout and light)."""
    xa = list(a.convert("L").resize((32, 32), Image.BILINEAR).get_flattened_data())
    xb = list(b.convert("L").resize((32, 32), Image.BILINEAR).get_flattened_data())
    ma, mb = sum(xa) / len(xa), sum(xb) / len(xb)
    cov = sum((p - ma) * (q - mb) for p, q in zip(xa, xb))
    va = sum((p - ma) ** 2 for p in xa) ** 0.5
    vb = sum((q - mb) ** 2 for q in xb) ** 0.5
    return cov / (va * vb) if va and vb else 0.0
