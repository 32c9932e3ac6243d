"""Deterministic sandbox pictures, made with Pillow.

The sandbox is not AI and its pictures must not pass for AI results: each is a
seeded abstract pattern (a gradient and soft shapes) whose seed is the sha256
of the request's parts (model, prompt, size, index, options), so the same
request always gives the same pixels and a different prompt a visibly
different picture.  Each carries a small label: the prompt's first words and
"SANDBOX - not AI".  (Pillow's default font has no em dash, so a hyphen.)

Speed matters more than beauty: patterns are drawn on a ~96 px canvas and
scaled up once, PNGs are written with ``compress_level=1``.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import json
import random
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw, ImageFont, ImageOps, PngImagePlugin

SANDBOX_TAG = "SANDBOX - not AI"
SOFTWARE = "imagesynth sandbox (not AI)"
_SMALL = 96  # long edge of the canvas patterns are drawn on


def seed_of(*parts: Any) -> bytes:
    """sha256 of the request's parts: the one source of every random choice."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()


def _rng(seed: bytes) -> random.Random:
    # Random(int) is stable across Python versions; only .random() is used below.
    return random.Random(int.from_bytes(seed, "big"))


def _color(rng: random.Random, alpha: int = 255) -> tuple[int, int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(rng.random(), 0.45 + 0.5 * rng.random(), 0.55 + 0.45 * rng.random())
    return int(r * 255), int(g * 255), int(b * 255), alpha


def pattern(width: int, height: int, seed: bytes, *, transparent: bool = False, alpha_scale: float = 1.0) -> Image.Image:
    """An RGBA picture of ``width``×``height``: gradient backdrop (none if
    ``transparent``) with soft shapes, all chosen by ``seed``."""
    rng = _rng(seed)
    scale = _SMALL / max(width, height)
    sw, sh = max(4, round(width * scale)), max(4, round(height * scale))
    if transparent:
        canvas = Image.new("RGBA", (sw, sh), (0, 0, 0, 0))
    else:
        grad = Image.linear_gradient("L").rotate(rng.random() * 360, resample=Image.BILINEAR, expand=False)
        grad = grad.resize((sw, sh), Image.BILINEAR)
        canvas = Image.composite(Image.new("RGBA", (sw, sh), _color(rng)), Image.new("RGBA", (sw, sh), _color(rng)), grad)
    layer = Image.new("RGBA", (sw, sh), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(6 + int(rng.random() * 7)):
        kind = int(rng.random() * 4)
        cx, cy = rng.random() * sw, rng.random() * sh
        rad = (0.08 + rng.random() * 0.3) * min(sw, sh)
        fill = _color(rng, int((150 + rng.random() * 105) * alpha_scale))
        box = (cx - rad, cy - rad, cx + rad, cy + rad)
        if kind == 0:
            draw.ellipse(box, fill=fill)
        elif kind == 1:
            draw.rectangle((cx - rad, cy - rad * 0.6, cx + rad, cy + rad * 0.6), fill=fill)
        elif kind == 2:
            draw.polygon([(cx, cy - rad), (cx + rad, cy + rad), (cx - rad, cy + rad)], fill=fill)
        else:
            draw.ellipse(box, outline=fill, width=max(1, int(rad / 4)))
    canvas = Image.alpha_composite(canvas, layer)
    return canvas.resize((width, height), Image.BICUBIC)


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def first_words(prompt: str, limit: int = 40) -> str:
    words, out = prompt.split(), ""
    for w in words:
        if len(out) + len(w) + 1 > limit:
            return (out or w[:limit]) + "..."
        out = f"{out} {w}".strip()
    return out


def draw_label(img: Image.Image, lines: list[str], region: tuple[int, int, int, int] | None = None) -> None:
    """Draw ``lines`` small, white on a dark box, in the bottom-left of ``region``."""
    x0, y0, x1, y1 = region or (0, 0, img.width, img.height)
    size = max(10, min(img.width, img.height) // 56)
    font = _font(size)
    draw = ImageDraw.Draw(img)
    lines = [ln for ln in lines if ln]
    widths = [draw.textlength(ln, font=font) for ln in lines]
    pad, line_h = size // 2, int(size * 1.25)
    bw, bh = int(max(widths, default=0)) + 2 * pad, line_h * len(lines) + 2 * pad
    bx, by = x0 + pad, max(y0, y1 - bh - pad)
    fill = (0, 0, 0) if img.mode == "RGB" else (0, 0, 0, 255)
    ink = (255, 255, 255) if img.mode == "RGB" else (255, 255, 255, 255)
    draw.rectangle((bx, by, bx + bw, by + bh), fill=fill)
    for i, ln in enumerate(lines):
        draw.text((bx + pad, by + pad + i * line_h), ln, font=font, fill=ink)


def label_lines(prompt: str | None, model: str) -> list[str]:
    return [first_words(prompt) if prompt else "", f"{SANDBOX_TAG} - {model}"]


# --- the three operations ----------------------------------------------------------------------
def generated(width: int, height: int, seed: bytes, lines: list[str], *, transparent: bool = False) -> Image.Image:
    img = pattern(width, height, seed, transparent=transparent)
    if not transparent:
        img = img.convert("RGB")
    draw_label(img, lines)
    return img


def edited(base: Image.Image, edit_mask: Image.Image | None, width: int, height: int, seed: bytes,
           lines: list[str]) -> Image.Image:
    """An edit of ``base``: where ``edit_mask`` (L, 255 = edit) is set, a new
    pattern; elsewhere ``base``'s own pixels, untouched.  Without a mask the
    whole picture is restyled: ``base`` blended with a pattern."""
    keep_alpha = base.mode in ("RGBA", "LA", "PA") or (base.mode == "P" and "transparency" in base.info)
    base = base.convert("RGBA" if keep_alpha else "RGB")
    if base.size != (width, height):
        base = base.resize((width, height), Image.BICUBIC)
    fill = pattern(width, height, seed)
    if edit_mask is None:
        out = Image.blend(base.convert("RGB"), fill.convert("RGB"), 0.45)
        draw_label(out, lines)
        return out
    if edit_mask.size != (width, height):
        edit_mask = edit_mask.resize((width, height), Image.NEAREST)
    fill = fill.convert(base.mode)
    bbox = edit_mask.getbbox()
    if bbox:
        draw_label(fill, lines, bbox)
    out = base.copy()
    out.paste(fill, (0, 0), edit_mask)
    return out


def _hue_shift(img: Image.Image, shift: int) -> Image.Image:
    h, s, v = img.convert("RGB").convert("HSV").split()
    h = h.point([(i + shift) % 256 for i in range(256)])
    return Image.merge("HSV", (h, s, v)).convert("RGB")


def varied(ref: Image.Image, width: int, height: int, seed: bytes, lines: list[str]) -> Image.Image:
    """A variation: recognisably ``ref`` (same layout and light), hue-shifted
    and posterized, with faint shapes over it."""
    rng = _rng(seed)
    img = ref.convert("RGB")
    if img.size != (width, height):
        img = img.resize((width, height), Image.BICUBIC)
    img = ImageOps.posterize(_hue_shift(img, 12 + int(rng.random() * 30)), 4)
    overlay = pattern(width, height, seed, transparent=True, alpha_scale=0.3)
    img = Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")
    draw_label(img, lines)
    return img


def partial(img: Image.Image, index: int, total: int) -> Image.Image:
    """Partial image ``index`` of ``total``: the final picture, coarser the earlier it comes."""
    factor = 2 ** (total - index + 2)
    small = img.resize((max(1, img.width // factor), max(1, img.height // factor)), Image.BILINEAR)
    return small.resize(img.size, Image.BILINEAR)


MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def encode(img: Image.Image, fmt: str = "png", compression: int = 100) -> bytes:
    buf = io.BytesIO()
    if fmt == "png":
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", SOFTWARE)
        img.save(buf, "PNG", compress_level=1, pnginfo=info)
    elif fmt == "jpeg":
        if img.mode != "RGB":
            flat = Image.new("RGB", img.size, (255, 255, 255))
            flat.paste(img, mask=img.getchannel("A") if "A" in img.getbands() else None)
            img = flat
        img.save(buf, "JPEG", quality=max(1, min(95, compression)))
    elif fmt == "webp":
        img.save(buf, "WEBP", quality=max(0, min(100, compression)), method=0)
    else:
        raise ValueError(fmt)
    return buf.getvalue()
