"""Gallery thumbnails: ~256 px WebP (JPEG where the browser cannot write WebP),
made with the browser's own decoder and OffscreenCanvas at save time, so the
gallery never decodes a full-size image to show a tile.
"""

from __future__ import annotations

import js

from .dom import js_object, nn

EDGE = 256  # longest side, CSS pixels × ~1.3 for sharp tiles on HiDPI screens at the grid's size
QUALITY = 0.82


def fit(width: int, height: int, edge: int = EDGE) -> tuple[int, int]:
    scale = min(1.0, edge / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


async def make(blob, edge: int = EDGE):
    """A thumbnail Blob for an image Blob, or None where the browser cannot make one
    (the gallery then shows the full image for that tile)."""
    try:
        bmp = await js.createImageBitmap(blob)
        w, h = fit(int(bmp.width), int(bmp.height), edge)
        if hasattr(js, "OffscreenCanvas"):
            canvas = js.OffscreenCanvas.new(w, h)
        else:  # pragma: no cover - old Safari
            canvas = js.document.createElement("canvas")
            canvas.width, canvas.height = w, h
        ctx = canvas.getContext("2d")
        ctx.imageSmoothingEnabled = True
        ctx.imageSmoothingQuality = "high"
        ctx.drawImage(bmp, 0, 0, w, h)
        bmp.close()
        out = await _encode(canvas, "image/webp")
        if out is None or str(out.type) != "image/webp":
            # JPEG has no transparency: paint it on white first
            ctx.globalCompositeOperation = "destination-over"
            ctx.fillStyle = "#ffffff"
            ctx.fillRect(0, 0, w, h)
            out = await _encode(canvas, "image/jpeg")
        return out
    except Exception:
        return None


async def _encode(canvas, mime: str):
    opts = js_object({"type": mime, "quality": QUALITY})
    if hasattr(canvas, "convertToBlob"):
        return nn(await canvas.convertToBlob(opts))
    from pyodide.ffi import create_once_callable  # pragma: no cover - HTMLCanvasElement

    fut = js.Promise.new(create_once_callable(
        lambda resolve, reject: canvas.toBlob(create_once_callable(resolve), mime, QUALITY)))
    return nn(await fut)
