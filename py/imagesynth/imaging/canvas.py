"""The imaging contract on the browser's own codecs and canvas.

Used where Pillow cannot be loaded (Pyodide without a Pillow wheel, see
ENVIRONMENT.md); passes the same tests/imaging_contract.py as the Pillow
implementation.

- Decoding: the bytes are judged by ``sniff.check`` (byte limit, format
  allow-list from the magic bytes, pixel count from the header) and
  ``sniff.looks_complete`` *before* the browser sees them; only then
  ``createImageBitmap(blob, {imageOrientation: "from-image"})`` decodes them
  (first frame, EXIF orientation applied, off the main thread).
- Pictures are ``CanvasPicture``: an ``OffscreenCanvas`` (or, straight after
  decoding, the ``ImageBitmap`` itself, drawn onto a canvas only when pixels
  are needed) with its width and height.
- Geometry is ``drawImage`` with ``imageSmoothingQuality = "high"``; big
  reductions go by halves first.
- Per-pixel work (mask thresholds, grey levels, alpha checks) is done on the
  whole RGBA buffer at once: one ``getImageData`` copied into Python as bytes,
  then C-speed bytes operations (slicing with a step, ``translate`` lookup
  tables, ``count``) and, where channels must be combined, big-integer
  arithmetic over fixed-width lanes.  Never one FFI call per pixel.

The module imports on CPython too (``js`` and ``pyodide`` are imported only
inside functions), so tests can import it; it only works in a browser.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..errors import ImageInputError
from . import png, sniff
from .base import PAINT_THRESHOLD, Imaging, Limits, mask_stretched

_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}

# byte lookup tables (bytes.translate): value -> value
_PAINT_FROM_ALPHA = bytes(255 if v < PAINT_THRESHOLD else 0 for v in range(256))  # alpha -> paint
_KEEP_FROM_ALPHA = bytes(0 if v < PAINT_THRESHOLD else 255 for v in range(256))  # alpha -> mask alpha
_PAINT_FROM_GREY = bytes(255 if v >= PAINT_THRESHOLD else 0 for v in range(256))
_INVERT = bytes(range(255, -1, -1))
# the feather ramp: blurred paint weight in [50 %, 100 %] -> [0, 255] (same table as Pillow's side)
_FEATHER_LUT = bytes(0 if v <= 128 else min(255, round((v - 128) * 255 / 126)) for v in range(256))

# black/white mask recognition (same numbers as the Pillow implementation)
_DARK, _LIGHT = 64, 192
_MIDTONES = bytes(range(_DARK, _LIGHT))
_MIN_BW_SHARE = 0.95
_MAX_COLOURED_SHARE = 0.02
_COLOUR_DIFF = 48


def _js():
    import js  # noqa: PLC0415 - only exists in Pyodide

    return js


def _obj(d: dict):
    """A Python dict → a plain JS object (for option bags)."""
    from pyodide.ffi import to_js  # noqa: PLC0415

    return to_js(d, dict_converter=_js().Object.fromEntries)


def _u8(data) -> Any:
    """Python bytes → a JS Uint8Array, copied once."""
    arr = _js().Uint8Array.new(len(data))
    arr.assign(data)
    return arr


class CanvasPicture:
    """A picture for CanvasImaging: a drawable JS object and its size."""

    __slots__ = ("_source", "width", "height", "is_canvas", "rgba", "alpha", "opaque", "resized", "encodings")

    def __init__(self, source: Any, width: int, height: int, *, is_canvas: bool = True,
                 rgba: bytes | None = None, alpha: bytes | None = None, opaque: bool = False):
        #: OffscreenCanvas, or the ImageBitmap straight from decode; None for a mask made from
        #: an alpha plane in Python, drawn only when something asks for ``source``
        self._source = source
        self.width = int(width)
        self.height = int(height)
        self.is_canvas = is_canvas
        #: the exact straight-alpha pixels, kept when they have partial transparency: a 2D
        #: canvas stores colours premultiplied by alpha, so it cannot give them back exactly
        self.rgba = rgba
        #: the alpha plane, once read (masks made here, decoded PNGs): spares another
        #: getImageData of the whole picture for the alpha checks that follow
        self.alpha = alpha
        #: known to have no transparency without reading a pixel (decoded from a JPEG, a format
        #: with no alpha channel): Pillow knows this from the image's mode, a canvas cannot
        self.opaque = opaque
        #: the picture's resized copies by size, made once where resize was asked to keep them
        #: (prepare.warm_upload makes the upload's while the user paints, and the run finds it
        #: here); the latest two
        self.resized: dict[tuple[int, int], CanvasPicture] = {}
        #: a resized copy's encodings by (format, quality, fast), made once: the tasks, so that
        #: a run that comes while warm_upload is still encoding waits for it instead of
        #: encoding again. None (not kept) for other pictures: results and masks are encoded once
        self.encodings: dict[tuple, Any] | None = None

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def source(self) -> Any:
        if self._source is None:
            # the upload's mask is checked and written from its alpha plane (encode_mask) and
            # never drawn: drawing it at once cost the 12 MP edit 35-50 ms of the main thread
            self._source = _canvas_from_rgba(_black_rgba(self.alpha), self.width, self.height)
        return self._source

    @source.setter
    def source(self, value: Any) -> None:
        self._source = value

    def canvas(self) -> Any:
        """The picture as an OffscreenCanvas (a decoded bitmap is drawn once, then kept)."""
        if not self.is_canvas:
            canvas, ctx = _new_canvas(self.width, self.height, smooth=False)
            ctx.drawImage(self.source, 0, 0)
            self.source.close()  # frees the bitmap's memory now, not at garbage collection
            self.source, self.is_canvas = canvas, True
        return self.source

    def __repr__(self) -> str:
        return f"<CanvasPicture {self.width}x{self.height}>"


def _new_canvas(w: int, h: int, *, smooth: bool = True):
    canvas = _js().OffscreenCanvas.new(max(1, int(w)), max(1, int(h)))
    ctx = canvas.getContext("2d")
    ctx.imageSmoothingEnabled = smooth
    if smooth:
        ctx.imageSmoothingQuality = "high"
    return canvas, ctx


def _rgba(pic: CanvasPicture) -> bytes:
    """All pixels as straight RGBA bytes, one copy from JS into Python."""
    if pic.rgba is not None:
        return pic.rgba
    ctx = pic.canvas().getContext("2d")
    return ctx.getImageData(0, 0, pic.width, pic.height).data.to_bytes()


def _alpha_of(pic: CanvasPicture) -> bytes:
    """The alpha plane, read once and kept with the picture."""
    if pic.alpha is None:
        pic.alpha = _rgba(pic)[3::4]
    return pic.alpha


def _from_rgba(buf, w: int, h: int, *, exact: bool = False) -> CanvasPicture:
    return CanvasPicture(_canvas_from_rgba(buf, w, h), w, h,
                         rgba=bytes(buf) if exact and _partial_alpha(buf) else None)


def _canvas_from_rgba(buf, w: int, h: int) -> Any:
    js = _js()
    arr = js.Uint8ClampedArray.new(w * h * 4)
    arr.assign(buf)
    canvas, ctx = _new_canvas(w, h)
    ctx.putImageData(js.ImageData.new(arr, w, h), 0, 0)
    return canvas


def _partial_alpha(buf) -> bool:
    """Any alpha strictly between 0 and 255 (where premultiplication would lose colour)?"""
    return _partial_alpha_plane(bytes(buf[3::4]))


def _partial_alpha_plane(alpha: bytes) -> bool:
    return bool(alpha.translate(None, b"\x00\xff"))


def _alpha_picture(alpha: bytes, w: int, h: int) -> CanvasPicture:
    """A black picture with the given alpha plane (drawn on a canvas when first needed)."""
    return CanvasPicture(None, w, h, alpha=bytes(alpha))


def _black_rgba(alpha: bytes) -> bytearray:
    """RGBA pixels, black, with the given alpha plane."""
    buf = bytearray(len(alpha) * 4)
    buf[3::4] = alpha
    return buf


def _mask_from_paint(paint: bytes, w: int, h: int) -> CanvasPicture:
    """Binary paint plane (255 = paint) → API mask: black, alpha 0 where paint."""
    return _alpha_picture(paint.translate(_INVERT), w, h)


def _coerce(pic: Any) -> CanvasPicture:
    if isinstance(pic, CanvasPicture):
        return pic
    return CanvasImaging().adopt(pic)


# --- lanes: per-pixel arithmetic on whole planes with big integers ------------------------------
# A plane of n bytes becomes an int whose n lanes are `width` bytes wide (big-endian), so
# one multiplication or addition works on every pixel at once, in C, with no carry between
# lanes as long as every lane stays below 256**width.
def _lanes(plane: bytes, width: int) -> int:
    buf = bytearray(len(plane) * width)
    buf[width - 1::width] = plane
    return int.from_bytes(buf, "big")


def _repeat(value: int, n: int, width: int) -> int:
    return int.from_bytes(value.to_bytes(width, "big") * n, "big")


def _grey(buf: bytes) -> bytes:
    """RGBA → grey plane, exactly Pillow's RGB→L: (R*19595 + G*38470 + B*7471 + 0x8000) >> 16."""
    n = len(buf) // 4
    total = (_lanes(buf[0::4], 4) * 19595 + _lanes(buf[1::4], 4) * 38470
             + _lanes(buf[2::4], 4) * 7471 + _repeat(0x8000, n, 4))
    return total.to_bytes(4 * n, "big")[1::4]


def _count_diff_at_least(a: bytes, c: bytes, t: int) -> int:
    """How many pixels have |a - c| >= t (two planes of equal length)."""
    n = len(a)
    if n == 0:
        return 0
    # lane = a - c + 256 in [1, 511] (no borrow: every lane of A + 256 is >= its c)
    v = _lanes(a, 2) + _repeat(256, n, 2) - _lanes(c, 2)
    # a - c >= t  <=>  lane + (512 - 256 - t) >= 512  <=>  high byte is 2 (it is at most 2)
    up = (v + _repeat(256 - t, n, 2)).to_bytes(2 * n, "big")[0::2].count(2)
    # c - a >= t  <=>  lane <= 256 - t  <=>  lane + (255 + t) <= 511  <=>  high byte is 1
    down = (v + _repeat(255 + t, n, 2)).to_bytes(2 * n, "big")[0::2].count(1)
    return up + down


def _and(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") & int.from_bytes(b, "big")).to_bytes(len(a), "big")


class CanvasImaging(Imaging):
    name = "browser canvas"

    # --- input ------------------------------------------------------------------------------
    async def decode(self, data: bytes, limits: Limits = Limits()) -> Any:
        from pyodide.ffi import JsException  # noqa: PLC0415

        js = _js()
        data = bytes(data)
        fmt, _w, _h = sniff.check(data, limits.max_bytes, limits.max_pixels, limits.formats)
        if not sniff.looks_complete(data, fmt):
            raise ImageInputError(
                "The image could not be decoded: it is damaged or truncated (the file ends early). "
                "Save it again as PNG or JPEG and retry."
            )
        blob = js.Blob.new([_u8(data)], _obj({"type": _MIME[fmt]}))
        try:
            bitmap = await js.createImageBitmap(blob, _obj({"imageOrientation": "from-image"}))
        except JsException as exc:
            raise ImageInputError(
                f"The image could not be decoded: it is damaged or truncated ({_js_message(exc)}). "
                "Save it again as PNG or JPEG and retry."
            ) from None
        w, h = int(bitmap.width), int(bitmap.height)
        if w * h > limits.max_pixels or w <= 0 or h <= 0:
            bitmap.close()
            raise ImageInputError(
                f"The image has too many pixels: {w} x {h}, and at most "
                f"{limits.max_pixels / 1e6:g} megapixels are accepted. Downscale it first."
            )
        pic = CanvasPicture(bitmap, w, h, is_canvas=False, opaque=fmt == "jpeg")
        if fmt in ("png", "webp") and _partial_alpha_plane(_alpha_of(pic)):
            exact = await _exact_rgba(blob, w, h)
            if exact is not None:
                pic.rgba = exact
                pic.alpha = exact[3::4]
        return pic

    def adopt(self, obj: Any) -> Any:
        if isinstance(obj, CanvasPicture):
            return obj
        kind = None
        try:
            kind = str(obj.constructor.name)
        except Exception:  # noqa: BLE001 - not a JS object
            kind = None
        if kind == "ImageData":
            w, h = int(obj.width), int(obj.height)
            canvas, ctx = _new_canvas(w, h)
            ctx.putImageData(obj, 0, 0)
            return CanvasPicture(canvas, w, h)
        if kind in ("ImageBitmap", "OffscreenCanvas", "HTMLCanvasElement", "HTMLImageElement",
                    "SVGImageElement", "HTMLVideoElement", "VideoFrame"):
            if kind == "SVGImageElement":
                raise ImageInputError("SVG images are not accepted. Accepted formats: PNG, JPEG, WebP or GIF.")
            w = int(getattr(obj, "naturalWidth", None) or getattr(obj, "videoWidth", None)
                    or getattr(obj, "displayWidth", None) or obj.width)
            h = int(getattr(obj, "naturalHeight", None) or getattr(obj, "videoHeight", None)
                    or getattr(obj, "displayHeight", None) or obj.height)
            if w <= 0 or h <= 0:
                raise ImageInputError("The image has no pixels (is it still loading?).")
            canvas, ctx = _new_canvas(w, h)
            ctx.drawImage(obj, 0, 0)  # a copy: the caller keeps their object
            return CanvasPicture(canvas, w, h)
        raise ImageInputError(
            "Expected image bytes or a browser image (ImageBitmap, canvas, ImageData, <img>), "
            f"got {kind or type(obj).__name__}."
        )

    def size(self, pic: Any) -> tuple[int, int]:
        pic = _coerce(pic)
        return (pic.width, pic.height)

    async def has_transparency(self, pic: Any) -> bool:
        pic = _coerce(pic)
        if pic.opaque:  # a 12 MP JPEG's alpha read into Python only to find it all 255 took ~100 ms
            return False
        alpha = _alpha_of(pic)
        return alpha.count(255) != len(alpha)

    # --- masks ------------------------------------------------------------------------------
    async def mask_from_alpha(self, pic: Any) -> Any:
        pic = _coerce(pic)
        alpha = _alpha_of(pic)
        return _alpha_picture(alpha.translate(_KEEP_FROM_ALPHA), pic.width, pic.height)

    async def normalize_mask(self, mask: Any, size: tuple[int, int]) -> tuple[Any, list[str]]:
        mask = _coerce(mask)
        w, h = mask.width, mask.height
        tw, th = max(1, int(size[0])), max(1, int(size[1]))
        warnings: list[str] = []
        if (w, h) != (tw, th):
            warnings.append(mask_stretched((w, h), (tw, th)))
            if mask.alpha is None and mask.rgba is None:
                # Scaling (prepare sends the mask at the upload's size): resize on the canvas and
                # read back only the small alpha. Transparency anywhere leaves alpha < 255 after
                # the smooth reduction, so the small plane says which convention the mask uses;
                # fully opaque there means black and white, judged below at full size. (Reading
                # the full 12 MP alpha into Python first took most of the edit's preparation.)
                small = CanvasPicture(_resize_source(mask.source, w, h, tw, th, "low"), tw, th)
                small_alpha = _rgba(small)[3::4]
                if small_alpha.count(255) != len(small_alpha):
                    return _alpha_picture(small_alpha.translate(_KEEP_FROM_ALPHA), tw, th), warnings
        alpha = _alpha_of(mask)
        if alpha.count(255) != len(alpha):
            if (w, h) == (tw, th) and not _partial_alpha_plane(alpha):
                # already binary: the mask is its own alpha in black, made on the canvas
                # (no whole-picture copy from Python into the canvas)
                return _black_with_alpha_of(mask, alpha), warnings
            if (w, h) != (tw, th):
                # the alpha resized on the canvas straight from the mask (colour does not
                # touch alpha), then read back at the small size only
                small = CanvasPicture(_resize_source(mask.source, w, h, tw, th, "low"), tw, th)
                return _alpha_picture(_rgba(small)[3::4].translate(_KEEP_FROM_ALPHA), tw, th), warnings
            paint = alpha.translate(_INVERT)  # transparent = paint (weights; thresholded below)
        else:
            paint = _paint_from_black_white(_rgba(mask))
        if (w, h) != (tw, th):
            paint = _resize_plane(paint, w, h, tw, th)
        return _mask_from_paint(paint.translate(_PAINT_FROM_GREY), tw, th), warnings

    async def invert_mask(self, mask: Any) -> Any:
        mask = _coerce(mask)
        alpha = _alpha_of(mask)
        # old keep area (alpha >= threshold) becomes the paint area (alpha 0)
        return _alpha_picture(alpha.translate(_PAINT_FROM_ALPHA), mask.width, mask.height)

    # --- geometry ---------------------------------------------------------------------------
    async def resize(self, pic: Any, size: tuple[int, int], *, keep: bool = False) -> Any:
        pic = _coerce(pic)
        tw, th = max(1, int(size[0])), max(1, int(size[1]))
        if (pic.width, pic.height) == (tw, th):
            canvas, ctx = _new_canvas(tw, th)
            ctx.drawImage(pic.source, 0, 0)
            return CanvasPicture(canvas, tw, th)
        made = pic.resized.get((tw, th))
        if made is None:
            made = CanvasPicture(_resize_source(pic.source, pic.width, pic.height, tw, th), tw, th,
                                 opaque=pic.opaque)
            if keep:  # only when asked: a result scaled back to its original's size would
                #       otherwise hold a 12 MP copy for as long as the result is kept
                made.encodings = {}
                while len(pic.resized) >= 2:
                    pic.resized.pop(next(iter(pic.resized)))
                pic.resized[(tw, th)] = made
        return made

    async def crop(self, pic: Any, box: tuple[int, int, int, int]) -> Any:
        pic = _coerce(pic)
        left, top, right, bottom = (int(v) for v in box)
        w, h = right - left, bottom - top
        if w <= 0 or h <= 0:
            raise ValueError(f"crop box {box} is empty")
        if pic.rgba is not None:
            return _from_rgba(_place(pic.rgba, pic.width, pic.height, w, h, -left, -top), w, h, exact=True)
        canvas, ctx = _new_canvas(w, h, smooth=False)
        ctx.drawImage(pic.source, -left, -top)
        return CanvasPicture(canvas, w, h)

    async def pad(self, pic: Any, size: tuple[int, int], offset: tuple[int, int]) -> Any:
        pic = _coerce(pic)
        w, h = int(size[0]), int(size[1])
        if pic.rgba is not None:
            return _from_rgba(_place(pic.rgba, pic.width, pic.height, w, h, int(offset[0]), int(offset[1])),
                              w, h, exact=True)
        canvas, ctx = _new_canvas(w, h, smooth=False)
        ctx.drawImage(pic.source, int(offset[0]), int(offset[1]))
        return CanvasPicture(canvas, w, h)

    async def paste_back(self, original: Any, edited: Any, mask: Any, feather: int) -> Any:
        original, edited, mask = _coerce(original), _coerce(edited), _coerce(mask)
        w, h = original.width, original.height
        if (edited.width, edited.height) != (w, h):
            raise ValueError(f"paste_back needs equal sizes, got {edited.size} and {original.size}")
        paint = _alpha_of(mask).translate(_PAINT_FROM_ALPHA)
        if (mask.width, mask.height) != (w, h):
            paint = _resize_plane(paint, mask.width, mask.height, w, h).translate(_PAINT_FROM_GREY)
        weight = _inward_feather(paint, w, h, feather)
        # the original with its alpha multiplied by (255 - weight), drawn over the edited picture:
        # weight 255 → the edited pixel exactly, weight 0 → the original pixel exactly; where the
        # original is transparent (the hole being filled) there is nothing to paste back, so a
        # feathered edge never leaves a transparent ring
        keep = _alpha_picture(weight.translate(_INVERT), w, h)
        top, tctx = _new_canvas(w, h, smooth=False)
        tctx.drawImage(original.source, 0, 0)
        tctx.globalCompositeOperation = "destination-in"
        tctx.drawImage(keep.source, 0, 0)
        out, octx = _new_canvas(w, h, smooth=False)
        octx.drawImage(edited.source, 0, 0)
        octx.drawImage(top, 0, 0)
        return CanvasPicture(out, w, h)

    # --- output -----------------------------------------------------------------------------
    async def encode(self, pic: Any, fmt: str = "png", quality: int = 95, *, fast: bool = False,
                     keep_alpha: bool = True) -> bytes:
        # keep_alpha is not used: a canvas picture's PNG is RGBA (the browser's or png.write_rgba)
        pic = _coerce(pic)
        fmt = (fmt or "png").lower()
        fmt = "jpeg" if fmt == "jpg" else fmt
        if fmt not in ("png", "jpeg", "webp"):
            raise ImageInputError(f"Cannot write images as {fmt!r}: choose png, jpeg or webp.")
        if pic.encodings is None:
            return await self._encode(pic, fmt, quality, fast)
        key = (fmt, int(quality), bool(fast))
        job = pic.encodings.get(key)
        if job is None:
            job = pic.encodings[key] = asyncio.ensure_future(self._encode(pic, fmt, quality, fast))
        try:
            return await asyncio.shield(job)  # a cancelled run leaves the encoding to the others
        except Exception:
            if pic.encodings.get(key) is job:
                del pic.encodings[key]  # failed: the next caller tries afresh
            raise

    async def encode_mask(self, mask: Any) -> bytes:
        mask = _coerce(mask)
        if mask.alpha is None or mask.rgba is not None:
            return await self.encode(mask, "png", fast=True)
        # from the alpha plane already in Python: in the page's 12 MP edit, 50-96 ms against
        # 52-166 ms for convertToBlob, which waits for the main thread's idle time
        return png.write_rgba(bytes(_black_rgba(mask.alpha)), mask.width, mask.height, 1)

    async def _encode(self, pic: CanvasPicture, fmt: str, quality: int, fast: bool) -> bytes:
        if fmt == "png" and pic.rgba is not None:
            return png.write_rgba(pic.rgba, pic.width, pic.height, 1 if fast else 6)
        source = pic.canvas()
        if fmt == "jpeg" and not pic.opaque:
            # JPEG has no alpha: flatten onto white, as browsers show transparency on pages
            source, ctx = _new_canvas(pic.width, pic.height, smooth=False)
            ctx.fillStyle = "#ffffff"
            ctx.fillRect(0, 0, pic.width, pic.height)
            ctx.drawImage(pic.source, 0, 0)
        options = {"type": _MIME[fmt]}
        if fmt != "png":
            options["quality"] = min(1.0, max(0.0, int(quality) / 100))
        blob = await source.convertToBlob(_obj(options))
        if str(blob.type) != _MIME[fmt]:
            # browsers silently fall back to PNG for a type they cannot write
            raise ImageInputError(f"This browser cannot write {sniff.nice_format(fmt)} images: choose png.")
        return (await blob.arrayBuffer()).to_bytes()


# --- helpers -----------------------------------------------------------------------------------
def _js_message(exc: Exception) -> str:
    msg = str(exc).strip() or type(exc).__name__
    return msg.splitlines()[0][:200]


def _resize_source(source: Any, w: int, h: int, tw: int, th: int, quality: str = "high") -> Any:
    """drawImage with smoothing: "high" for pictures; "low" (bilinear) for a mask, which is
    thresholded afterwards ("medium" builds mipmaps: 140 ms for a 12 MP mask in Chromium on a
    2-core EPYC, against 40 ms). A big reduction goes by halves first, because a single large
    step samples too few source pixels (aliasing); below 2x, bilinear reads every row and column."""
    while True:
        nw = max(tw, (w + 1) // 2) if w >= 2 * tw else w
        nh = max(th, (h + 1) // 2) if h >= 2 * th else h
        if (nw, nh) == (w, h):
            break
        canvas, ctx = _new_canvas(nw, nh)
        ctx.imageSmoothingQuality = quality
        ctx.drawImage(source, 0, 0, w, h, 0, 0, nw, nh)
        source, w, h = canvas, nw, nh
    canvas, ctx = _new_canvas(tw, th)
    ctx.imageSmoothingQuality = quality
    ctx.drawImage(source, 0, 0, w, h, 0, 0, tw, th)
    return canvas


def _black_with_alpha_of(pic: CanvasPicture, alpha: bytes) -> CanvasPicture:
    """Black where ``pic`` has alpha, with exactly its (binary) alpha: compositing, no pixel copy."""
    canvas, ctx = _new_canvas(pic.width, pic.height, smooth=False)
    ctx.drawImage(pic.source, 0, 0)
    ctx.globalCompositeOperation = "source-in"
    ctx.fillStyle = "#000000"
    ctx.fillRect(0, 0, pic.width, pic.height)
    ctx.globalCompositeOperation = "source-over"
    return CanvasPicture(canvas, pic.width, pic.height, alpha=alpha)


def _resize_plane(plane: bytes, w: int, h: int, tw: int, th: int) -> bytes:
    """A grey plane resized smoothly (carried as alpha through the canvas)."""
    src = _alpha_picture(plane, w, h)
    out = CanvasPicture(_resize_source(src.source, w, h, tw, th), tw, th)
    return _rgba(out)[3::4]


def _paint_from_black_white(buf: bytes) -> bytes:
    n = len(buf) // 4
    grey = _grey(buf)
    bw = len(grey.translate(None, _MIDTONES))
    r, g, b = buf[0::4], buf[1::4], buf[2::4]
    coloured = max(_count_diff_at_least(r, g, _COLOUR_DIFF), _count_diff_at_least(g, b, _COLOUR_DIFF),
                   _count_diff_at_least(r, b, _COLOUR_DIFF))
    if bw < _MIN_BW_SHARE * n or coloured > _MAX_COLOURED_SHARE * n:
        raise ImageInputError(
            "The mask is neither transparent nor black and white, so it is unclear where to paint. "
            "A mask must be black where the image stays and white where it should be repainted, "
            "or transparent where it should be repainted."
        )
    return grey  # white = paint; thresholded by the caller


def _has_filter(ctx: Any) -> bool:
    try:
        ctx.filter = "blur(1px)"
        ok = str(ctx.filter) == "blur(1px)"
        ctx.filter = "none"
        return ok
    except Exception:  # noqa: BLE001 - property missing (older Safari)
        return False


def _inward_feather(paint: bytes, w: int, h: int, feather: int) -> bytes:
    """Blend weights whose ramp lies inside the paint area (see base.Imaging.paste_back):
    blur the paint plane with a Gaussian of sigma feather/3 (the canvas ``blur()`` filter,
    edges extended like Pillow's), map [50 %, 100 %] → [0, 255], keep only inside the paint.

    Only the rows the paint spans, and the blur's reach around them, are blurred: rows of
    zeros blur to zeros and the weights are kept only inside the paint, so the rest is zero
    either way (a band's edge row is such a zero row, so extending it changes nothing). A
    stroke across a 12 MP photo: ~1.3 s for the whole plane in the page."""
    if feather <= 0:
        return paint
    first = len(paint) - len(paint.lstrip(b"\0"))
    if first == len(paint):
        return bytes(len(paint))
    last = len(paint.rstrip(b"\0")) - 1
    reach = _feather_pad(feather)
    y0, y1 = max(0, first // w - reach), min(h, last // w + 1 + reach)
    if (y0, y1) == (0, h):
        return _feather_plane(paint, w, h, feather)
    band = _feather_plane(paint[y0 * w:y1 * w], w, y1 - y0, feather)
    return bytes(y0 * w) + band + bytes((h - y1) * w)


def _feather_pad(feather: int) -> int:
    """How far the blur of sigma feather/3 reaches, with a margin: the edge extension's width."""
    return int(feather / 3 * 3) + 2


def _feather_plane(paint: bytes, w: int, h: int, feather: int) -> bytes:
    """``_inward_feather`` over a whole plane."""
    sigma = feather / 3
    pad = _feather_pad(feather)
    src = _alpha_picture(paint, w, h).source
    # the paint plane with its edge pixels repeated `pad` times on every side
    big, bctx = _new_canvas(w + 2 * pad, h + 2 * pad, smooth=False)
    P, W, H = pad, w, h
    bctx.drawImage(src, P, P)
    bctx.drawImage(src, 0, 0, 1, H, 0, P, P, H)  # left
    bctx.drawImage(src, W - 1, 0, 1, H, P + W, P, P, H)  # right
    bctx.drawImage(src, 0, 0, W, 1, P, 0, W, P)  # top
    bctx.drawImage(src, 0, H - 1, W, 1, P, P + H, W, P)  # bottom
    bctx.drawImage(src, 0, 0, 1, 1, 0, 0, P, P)  # corners
    bctx.drawImage(src, W - 1, 0, 1, 1, P + W, 0, P, P)
    bctx.drawImage(src, 0, H - 1, 1, 1, 0, P + H, P, P)
    bctx.drawImage(src, W - 1, H - 1, 1, 1, P + W, P + H, P, P)
    out, octx = _new_canvas(w, h)
    if _has_filter(octx):
        octx.filter = f"blur({sigma}px)"
        octx.drawImage(big, -P, -P)
        octx.filter = "none"
    else:
        # no canvas filters (older Safari): a smooth down- and up-scale approximates the blur
        f = max(1.0, sigma)
        sw, sh = max(1, round((w + 2 * P) / f)), max(1, round((h + 2 * P) / f))
        small, sctx = _new_canvas(sw, sh)
        sctx.drawImage(big, 0, 0, sw, sh)
        octx.drawImage(small, 0, 0, sw, sh, -P, -P, w + 2 * P, h + 2 * P)
    blurred = octx.getImageData(0, 0, w, h).data.to_bytes()[3::4]
    return _and(blurred.translate(_FEATHER_LUT), paint)


def _place(rgba: bytes, w: int, h: int, tw: int, th: int, dx: int, dy: int) -> bytes:
    """``rgba`` (w x h) placed at (dx, dy) on a transparent tw x th plane: crop and pad, row by row."""
    out = bytearray(tw * th * 4)
    x0, x1 = max(0, dx), min(tw, dx + w)
    if x1 <= x0:
        return bytes(out)
    for y in range(max(0, dy), min(th, dy + h)):
        sy = y - dy
        out[(y * tw + x0) * 4:(y * tw + x1) * 4] = rgba[(sy * w + x0 - dx) * 4:(sy * w + x1 - dx) * 4]
    return bytes(out)


async def _exact_rgba(blob: Any, w: int, h: int) -> bytes | None:
    """Straight (not premultiplied) RGBA of an image with partial transparency.

    A 2D canvas keeps colours premultiplied by alpha, so (180, 200, 100, 60) comes back as
    (178, 200, 102, 60).  WebGL can upload an ImageBitmap decoded with premultiplyAlpha
    "none" without premultiplying and read it back exactly (EXIF orientation applied by
    createImageBitmap, as on the canvas path).  None where WebGL is unavailable: the caller
    keeps the canvas pixels, off by a few levels where alpha is low."""
    from pyodide.ffi import JsException  # noqa: PLC0415

    js = _js()
    gl = None
    try:
        bitmap = await js.createImageBitmap(blob, _obj({"imageOrientation": "from-image",
                                                        "premultiplyAlpha": "none"}))
        if (int(bitmap.width), int(bitmap.height)) != (w, h):
            bitmap.close()
            return None
        canvas = js.OffscreenCanvas.new(w, h)
        gl = canvas.getContext("webgl2", _obj({"premultipliedAlpha": False})) or \
            canvas.getContext("webgl", _obj({"premultipliedAlpha": False}))
        if not gl:
            bitmap.close()
            return None
        gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, False)
        gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, False)
        gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE)
        tex = gl.createTexture()
        gl.bindTexture(gl.TEXTURE_2D, tex)
        gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, bitmap)
        bitmap.close()
        fb = gl.createFramebuffer()
        gl.bindFramebuffer(gl.FRAMEBUFFER, fb)
        gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0)
        if gl.checkFramebufferStatus(gl.FRAMEBUFFER) != gl.FRAMEBUFFER_COMPLETE:
            return None
        buf = js.Uint8Array.new(w * h * 4)
        gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, buf)
        if gl.getError() != gl.NO_ERROR:
            return None
        return buf.to_bytes()
    except JsException:
        return None
    finally:
        if gl:
            lose = gl.getExtension("WEBGL_lose_context")
            if lose:
                lose.loseContext()  # free the context now: browsers allow only a few at once
