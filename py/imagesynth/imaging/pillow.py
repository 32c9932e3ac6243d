"""The imaging contract on Pillow.

Importing this module imports Pillow, so ``imagesynth.imaging`` only imports it
inside ``default_imaging()``: the browser has no Pillow and falls back to the
canvas implementation.

Safety, and why it is done this way:

- Format and pixel count are judged by ``sniff.check`` on the raw header before
  Pillow sees the bytes, and ``Image.open`` is told the one format the magic
  bytes announced, so no other plugin ever parses untrusted data.
- Pillow's own bomb guard (``Image.MAX_IMAGE_PIXELS``) is process-global; we do
  not change it (another thread may rely on it) nor the global warning filters.
  Our per-call limit is checked first, on the header and again on the size
  Pillow reports, so Pillow's guard only fires when a caller raised
  ``Limits.max_pixels`` above it; its DecompressionBombError then becomes our
  error like any other.
- ``ImageFile.LOAD_TRUNCATED_IMAGES`` is never set: a truncated file must fail.
  (If some other code in the process sets it, Pillow would pad truncated images
  with grey; that global is beyond our reach.)

Speed: in CPython the heavy calls (decode, encode, resize, paste-back) run in a
worker thread (``asyncio.to_thread``), where Pillow releases the GIL, so that the
images of concurrent requests are finished side by side and the event loop
stays free.  Cancelling the awaiting task returns at once; the thread's result
is dropped.  Pyodide has no threads: there the work runs inline.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import sys
from typing import Any, Callable, Iterator

from PIL import ExifTags, Image, ImageChops, ImageFilter, ImageOps

from ..errors import ImageInputError, ImageSynthError
from . import png, sniff
from .base import PAINT_THRESHOLD, Imaging, Limits, mask_stretched

_PIL_FORMAT = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}

# A black/white mask: nearly all pixels near black or near white, and no colour.
_DARK, _LIGHT = 64, 192
_MIN_BW_SHARE = 0.95
_MAX_COLOURED_SHARE = 0.02


def _damaged(exc: BaseException) -> ImageInputError:
    detail = str(exc) or type(exc).__name__
    return ImageInputError(
        f"The image could not be decoded: it is damaged or truncated ({detail}). "
        "Save it again as PNG or JPEG and retry."
    )


_THREADS = sys.platform != "emscripten"


async def _off_loop(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a worker thread where there are threads, else inline."""
    if _THREADS:
        return await asyncio.to_thread(fn, *args)
    return fn(*args)


@contextlib.contextmanager
def _decode_errors() -> Iterator[None]:
    """Pillow's errors while decoding a user's bytes, as ours."""
    try:
        yield
    except ImageSynthError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageInputError(
            f"The image has too many pixels to decode safely ({exc}). Downscale it first."
        ) from None
    # Hostile files make Pillow raise nearly anything (OSError, SyntaxError, ValueError,
    # struct.error, EOFError, IndexError, MemoryError, ...): all mean "this file is bad".
    except Exception as exc:  # noqa: BLE001
        raise _damaged(exc) from None


def _open(data: bytes, fmt: str, limits: Limits) -> Image.Image:
    """The image's header read, in the one format its magic bytes announced, its size checked."""
    im = Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[fmt]])
    if im.width * im.height > limits.max_pixels:
        raise ImageInputError(
            f"The image has too many pixels: {im.width} x {im.height}, and at most "
            f"{limits.max_pixels / 1e6:g} megapixels are accepted. Downscale it first."
        )
    return im


def _pixels(im: Image.Image) -> Image.Image:
    """An opened image's pixels as a picture: first frame, EXIF orientation applied."""
    im.seek(0)  # first frame of an animation
    im.load()
    im = ImageOps.exif_transpose(im) or im
    return _to_picture(im)


def _to_picture(im: Image.Image) -> Image.Image:
    """A decoded image as this backend's picture: RGB when it has no alpha at all (a JPEG, an
    opaque PNG), else RGBA.  Why not always RGBA: a 12 MP photo is resized in half the time
    as RGB (Pillow resizes RGBA premultiplied, one channel more), and the conversion alone
    costs 25 ms; every method below accepts both."""
    if im.mode in ("RGB", "RGBA"):
        return im
    if "A" in im.getbands() or "transparency" in im.info:
        return _to_rgba(im)
    return _to_mode(im, "RGB")


def _to_rgba(im: Image.Image) -> Image.Image:
    """Any mode Pillow may hand us → RGBA."""
    return im if im.mode == "RGBA" else _to_mode(im, "RGBA")


def _to_mode(im: Image.Image, mode: str) -> Image.Image:
    """16-bit and float greys are scaled, not clipped."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        im = im.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    elif im.mode == "F":
        im = im.point(lambda v: v * 255).convert("L")
    return im.convert(mode)


class PillowImaging(Imaging):
    name = f"Pillow {Image.__version__}"

    # --- input ------------------------------------------------------------------------------
    async def decode(self, data: bytes, limits: Limits = Limits()) -> Any:
        data = bytes(data)
        fmt, w, h = sniff.check(data, limits.max_bytes, limits.max_pixels, limits.formats)
        return await _off_loop(self._decode, data, fmt, limits)

    async def decode_reduced(self, data: bytes, min_edge: int,
                             limits: Limits = Limits()) -> tuple[Any, tuple[int, int]] | None:
        data = bytes(data)
        fmt, w, h = sniff.check(data, limits.max_bytes, limits.max_pixels, limits.formats)
        if fmt != "jpeg" or max(w, h) < 2 * min_edge:  # JPEG's scaling halves at the least
            return None
        return await _off_loop(self._decode_reduced, data, fmt, limits, min_edge)

    def _decode(self, data: bytes, fmt: str, limits: Limits) -> Any:
        with _decode_errors():
            return _pixels(_open(data, fmt, limits))

    def _decode_reduced(self, data: bytes, fmt: str, limits: Limits,
                        min_edge: int) -> tuple[Any, tuple[int, int]] | None:
        with _decode_errors():
            im = _open(data, fmt, limits)
            stored = im.size
            turned = im.getexif().get(ExifTags.Base.Orientation) in (5, 6, 7, 8)  # a quarter turn
            k = min_edge / max(stored)
            # draft: libjpeg's DCT scaling, the largest reduction that keeps both sides at least
            # the size asked for (libjpeg's own smaller decode, not a resample of the full one)
            im.draft(None, (math.ceil(stored[0] * k), math.ceil(stored[1] * k)))
            if im.size == stored:  # this file cannot be decoded smaller
                return None
            return _pixels(im), (stored[::-1] if turned else stored)

    def adopt(self, obj: Any) -> Any:
        if not isinstance(obj, Image.Image):
            raise ImageInputError(
                f"Expected image bytes, a file path or a PIL image, got {type(obj).__name__}."
            )
        try:
            if getattr(obj, "n_frames", 1) > 1:
                obj.seek(0)
            obj.load()
            im = ImageOps.exif_transpose(obj) or obj
            im = _to_picture(im)
            return im.copy() if im is obj else im
        except Exception as exc:  # noqa: BLE001 - a lazily loaded PIL image may be damaged
            raise _damaged(exc) from None

    def lazy_picture(self, data: bytes, fmt: str) -> Any:
        """Pillow reads the header now and the pixels on first use (``finish`` checked the
        bytes with ``sniff`` already and keeps them only without EXIF or animation)."""
        try:
            return Image.open(io.BytesIO(bytes(data)), formats=[_PIL_FORMAT[fmt]])
        except Exception:  # noqa: BLE001 - no picture is allowed; the bytes are the result
            return None

    def size(self, pic: Any) -> tuple[int, int]:
        return pic.size

    async def has_transparency(self, pic: Any) -> bool:
        return pic.mode == "RGBA" and pic.getchannel("A").getextrema()[0] < 255

    # --- masks ------------------------------------------------------------------------------
    async def mask_from_alpha(self, pic: Any) -> Any:
        return _mask_from_paint(_paint_from_alpha(_to_rgba(pic).getchannel("A")))

    async def normalize_mask(self, mask: Any, size: tuple[int, int]) -> tuple[Any, list[str]]:
        return await _off_loop(self._normalize_mask, mask, tuple(size))

    def _normalize_mask(self, mask: Any, size: tuple[int, int]) -> tuple[Any, list[str]]:
        mask = _to_rgba(mask)
        warnings: list[str] = []
        alpha = mask.getchannel("A")
        by_alpha = alpha.getextrema()[0] < 255  # transparent = paint
        weights = alpha if by_alpha else _paint_from_black_white(mask)
        if weights.size != size:
            warnings.append(mask_stretched(weights.size, size))
            # scaled before it is inverted: the same up to rounding, and the inversion then runs
            # over the upload's pixels, not a 12 MP mask's. reducing_gap 1: a reduction by a whole
            # factor (a 4000x3000 mask for a 2000x1500 upload) is a box average, 7 ms instead of
            # 38; a mask is thresholded afterwards, so the filter's shape does not matter
            weights = weights.resize(size, Image.Resampling.BILINEAR, reducing_gap=1.0)
        paint = ImageOps.invert(weights) if by_alpha else weights
        return _mask_from_paint(paint), warnings

    async def invert_mask(self, mask: Any) -> Any:
        mask = _to_rgba(mask)
        return _mask_from_paint(mask.getchannel("A"))  # old keep area becomes the paint area

    # --- geometry ---------------------------------------------------------------------------
    async def resize(self, pic: Any, size: tuple[int, int], *, keep: bool = False) -> Any:
        size = (max(1, int(size[0])), max(1, int(size[1])))
        if pic.size == size:
            return pic.copy()
        # RGBA is resized premultiplied by Pillow, so transparent pixels do not bleed colour.
        # reducing_gap makes large reductions fast at no visible cost.
        return await _off_loop(pic.resize, size, Image.Resampling.LANCZOS, None, 3.0)

    async def crop(self, pic: Any, box: tuple[int, int, int, int]) -> Any:
        return pic.crop(tuple(int(v) for v in box))

    async def pad(self, pic: Any, size: tuple[int, int], offset: tuple[int, int]) -> Any:
        canvas = Image.new("RGBA", (int(size[0]), int(size[1])), (0, 0, 0, 0))
        canvas.paste(_to_rgba(pic), (int(offset[0]), int(offset[1])))
        return canvas

    async def paste_back(self, original: Any, edited: Any, mask: Any, feather: int) -> Any:
        return await _off_loop(self._paste_back, original, edited, mask, feather)

    def _paste_back(self, original: Any, edited: Any, mask: Any, feather: int) -> Any:
        original, edited = _to_rgba(original), _to_rgba(edited)
        if edited.size != original.size:
            raise ValueError(f"paste_back needs equal sizes, got {edited.size} and {original.size}")
        paint = _threshold(ImageOps.invert(_to_rgba(mask).getchannel("A")))
        if paint.size != original.size:
            paint = _threshold(paint.resize(original.size, Image.Resampling.BILINEAR))
        weight = inward_feather(paint, feather)
        # where the original is transparent (the hole being filled) there is nothing to paste
        # back: the edited pixel wins, so a feathered edge never leaves a transparent ring
        weight = ImageChops.lighter(weight, ImageOps.invert(original.getchannel("A")))
        return Image.composite(edited, original, weight)

    # --- output -----------------------------------------------------------------------------
    async def encode(self, pic: Any, fmt: str = "png", quality: int = 95, *, fast: bool = False,
                     keep_alpha: bool = True) -> bytes:
        fmt = (fmt or "png").lower()
        fmt = "jpeg" if fmt == "jpg" else fmt
        if fmt not in ("png", "jpeg", "webp"):
            raise ImageInputError(f"Cannot write images as {fmt!r}: choose png, jpeg or webp.")
        return await _off_loop(self._encode, pic, fmt, quality, fast, keep_alpha)

    async def encode_mask(self, mask: Any) -> bytes:
        # Pillow's row filters take most of its time on a mask and save little there (png.py)
        return await _off_loop(self._encode_mask, mask)

    def _encode_mask(self, mask: Any) -> bytes:
        mask = _to_rgba(mask)
        return png.write_rgba(mask.tobytes(), mask.width, mask.height, 1)

    def _encode(self, pic: Any, fmt: str, quality: int, fast: bool = False, keep_alpha: bool = True) -> bytes:
        out = io.BytesIO()
        if fmt == "png":
            # without alpha where none is used: a 12 MP photo's result takes 3.6 s as RGB, 8.5 s
            # as RGBA (2-core EPYC), and is 12% smaller; Pillow's row filters work through the
            # alpha bytes too
            rgb = None if keep_alpha else _opaque_as_rgb(pic)
            (_to_rgba(pic) if rgb is None else rgb).save(out, "PNG", compress_level=1 if fast else 6)
        elif fmt == "jpeg":
            flat = _opaque_as_rgb(pic)  # opaque already: nothing to flatten
            if flat is None:
                # JPEG has no alpha: flatten onto white, as browsers show transparency on pages
                pic = _to_rgba(pic)
                flat = Image.new("RGB", pic.size, (255, 255, 255))
                flat.paste(pic, mask=pic.getchannel("A"))
            flat.save(out, "JPEG", quality=int(quality), optimize=not fast)
        elif fmt == "webp":
            _to_rgba(pic).save(out, "WEBP", quality=int(quality), lossless=quality >= 100)
        else:
            raise ImageInputError(f"Cannot write images as {fmt!r}: choose png, jpeg or webp.")
        return out.getvalue()


def _opaque_as_rgb(pic: Image.Image) -> Image.Image | None:
    """The picture as RGB if it has no transparent pixel, else None."""
    if pic.mode == "RGB":
        return pic
    rgba = _to_rgba(pic)
    return rgba.convert("RGB") if rgba.getchannel("A").getextrema()[0] == 255 else None


# --- mask helpers (module level so tests and the finishing code can reuse them) ---------------
def _threshold(paint: Image.Image) -> Image.Image:
    """Grey paint weights → binary (255 paint / 0 keep); the API honours only alpha 0 exactly."""
    return paint.point(lambda v: 255 if v >= PAINT_THRESHOLD else 0)


def _paint_from_alpha(alpha: Image.Image) -> Image.Image:
    return _threshold(ImageOps.invert(alpha))


def _mask_from_paint(paint: Image.Image) -> Image.Image:
    """Paint weights (L, thresholded here) → API mask: black, alpha 0 where paint."""
    mask = Image.new("RGBA", paint.size, (0, 0, 0, 255))
    mask.putalpha(ImageOps.invert(_threshold(paint)))
    return mask


def _paint_from_black_white(mask: Image.Image) -> Image.Image:
    rgb = mask.convert("RGB")
    grey = rgb.convert("L")
    total = grey.width * grey.height
    hist = grey.histogram()
    bw = sum(hist[:_DARK]) + sum(hist[_LIGHT:])
    r, g, b = rgb.split()
    coloured = 0
    for a, c in ((r, g), (g, b), (r, b)):
        diff = ImageChops.difference(a, c).histogram()
        coloured = max(coloured, sum(diff[48:]))
    if bw < _MIN_BW_SHARE * total or coloured > _MAX_COLOURED_SHARE * total:
        raise ImageInputError(
            "The mask is neither transparent nor black and white, so it is unclear where to paint. "
            "A mask must be black where the image stays and white where it should be repainted, "
            "or transparent where it should be repainted."
        )
    return grey  # white = paint; thresholded by the caller


def inward_feather(paint: Image.Image, feather: int) -> Image.Image:
    """Blend weights whose ramp lies inside the paint area.

    Blurring the paint area and remapping [50 %, 100 %] → [0, 255] keeps every
    pixel outside the painted area exactly original (the promise of paste-back:
    only what the user painted changes), and makes pixels deeper than about
    ``feather`` inside exactly the edited ones."""
    if feather <= 0:
        return paint
    blurred = paint.filter(ImageFilter.GaussianBlur(feather / 3))
    lut = [0 if v <= 128 else min(255, round((v - 128) * 255 / 126)) for v in range(256)]
    return ImageChops.multiply(blurred.point(lut), paint)
