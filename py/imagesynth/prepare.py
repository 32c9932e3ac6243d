"""Fitting input images to what a model accepts, before upload.

Uses only the ``Imaging`` interface, so it runs the same on Pillow and on the
browser canvas.  Every fact about a model (formats, byte limits, square,
longest useful edge) comes from its ``ModelProfile``; nothing here names a model.

What is sent for an edit: the image (keeping any transparency, which is the
API's own convention) and always an explicit mask, so the edit area is the same
whichever convention the server follows.  The mask's alpha-0 area is the edit
area; ``paste_back_mask()`` gives that area at the original's size for paste-back.

A mask given as a picture is scaled straight to the upload's size: the
full-size copy that paste-back needs is made only when the first result is
finished (for a 12 MP photo it is a third of the preparation, and the user is
waiting for the upload, not for paste-back).  So is the full decode of a large
JPEG: its upload is made from a decode at half (a quarter, ...) its size.

Upload format, for speed (a 12 MP photo as PNG takes seconds to compress and
tens of MB to send): an opaque picture goes as JPEG (quality 92) where the model
takes JPEG and does not insist on RGBA; otherwise as PNG at a fast compression
level.  A JPEG source is known to be opaque from its magic bytes, so its pixels
are never scanned for transparency.
"""

from __future__ import annotations

import asyncio
import math
import os
from dataclasses import dataclass, field
from typing import Any

from .errors import ImageInputError
from .imaging import sniff
from .imaging.base import Imaging, Limits, mask_stretched
from .models import ModelProfile
from .reprs import brief_repr

_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_SHRINK = 0.85  # each downscale step when an upload is over the byte limit
_MAX_STEPS = 16
_JPEG_QUALITY = 92  # an opaque upload: visually lossless, a fraction of a PNG's bytes and time


@brief_repr
@dataclass
class PreparedEdit:
    """An edit's uploads made to the model's rules, and what maps the results back onto the original."""
    images: list[bytes]  # encoded uploads, in the model's accepted format and byte limit
    image_mimes: list[str]
    mask: bytes | None  # PNG in API convention (alpha 0 = paint), same size as images[0]; None for variations
    #: the decoded reference picture at its own size (for paste-back); None while the upload
    #: was made from a smaller decode and original_picture() has not yet decoded it in full
    original: Any
    paint_mask: Any | None  # API-convention mask at the original's size; see paste_back_mask()
    upload_size: tuple[int, int]  # size of images[0]
    #: where the original sits inside the upload: (left, top, width, height) after any square
    #: crop/pad and scaling, so results can be mapped back.  After a square *crop* (variations)
    #: left/top are negative: the original extends past the upload.
    placement: tuple[int, int, int, int] = (0, 0, 0, 0)
    warnings: list[str] = field(default_factory=list)
    mask_source: Any = None  # the given mask picture, until paste_back_mask() has made paint_mask
    original_size: tuple[int, int] = (0, 0)  # the original's (width, height), decoded or not
    original_source: Any = None  # the image as given, until original_picture() has decoded it
    _building: Any = field(default=None, repr=False)
    _decoding: Any = field(default=None, repr=False)

    @property
    def inpaint(self) -> bool:
        """An edit with a mask (paste-back applies), not a variation."""
        return self.paint_mask is not None or self.mask_source is not None

    async def original_picture(self, imaging: Imaging) -> Any:
        """``original``, decoded in full on first use when the upload came from a smaller
        decode (once, however many results are finished side by side)."""
        if self.original is None and self.original_source is not None:
            if self._decoding is None:
                self._decoding = asyncio.ensure_future(load_picture(imaging, self.original_source))
            original = await asyncio.shield(self._decoding)
            self.original, self.original_source = original, None
        return self.original

    async def paste_back_mask(self, imaging: Imaging) -> Any:
        """``paint_mask``, made from ``mask_source`` on first use (once, however many results
        are finished side by side)."""
        if self.paint_mask is None and self.mask_source is not None:
            if self._building is None:
                self._building = asyncio.ensure_future(
                    imaging.normalize_mask(self.mask_source, self.original_size))
            mask, _ = await asyncio.shield(self._building)
            self.paint_mask, self.mask_source = mask, None
        return self.paint_mask


async def load_picture(imaging: Imaging, source: Any, limits: Limits = Limits()) -> Any:
    """bytes | str/Path | native picture → picture.

    Paths are normally read by the caller's layer; one that gets this far is read
    here (with the byte limit checked first) rather than refused with a puzzle."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return await imaging.decode(bytes(source), limits)
    if isinstance(source, (str, os.PathLike)):
        return await imaging.decode(_read_file(source, limits.max_bytes), limits)
    return imaging.adopt(source)


# A JPEG decoded at 1/2 (1/4, 1/8) of its size for the upload (Imaging.decode_reduced) may come
# out this much short of the model's longest useful edge, and is then uploaded as it is: a
# 4000x3000 photo goes as 2000x1500 instead of 2048x1536 (decoding at half size and skipping the
# resize: 73 ms instead of 111 + 232 ms on a 2-core EPYC). The model scales its input to its own
# working size anyway (GPT image models work at 1024 to 1536 pixels).
_REDUCED_SLACK = 0.9


async def _load_image(imaging: Imaging, profile: ModelProfile, image: Any) -> tuple[Any, Any, tuple[int, int]]:
    """(original, picture the upload is made from, the original's size).  Where the upload is
    scaled down anyway and the backend can decode the bytes smaller (a JPEG), the picture is
    that smaller decode and the original None: paste-back decodes it in full when the first
    result is finished (``PreparedEdit.original_picture``), while the user waits for the
    model.  Not for square-only models, whose crop and pad work on the original."""
    if isinstance(image, (bytes, bytearray, memoryview)) and profile.edit_max_edge and not profile.edit_square:
        reduced = await imaging.decode_reduced(bytes(image), math.ceil(profile.edit_max_edge * _REDUCED_SLACK))
        if reduced is not None:
            small, size = reduced
            return None, small, size
    original = await load_picture(imaging, image)
    return original, original, imaging.size(original)


def _read_file(path, max_bytes: int) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise ImageInputError(f"Cannot read the image file {os.fspath(path)!r}: {exc.strerror or exc}.") from None
    return data  # one byte over the limit is enough for decode() to refuse it


async def prepare_edit(imaging: Imaging, profile: ModelProfile, image: Any, mask: Any = None, *,
                       operation: str = "edit", use_transparency: bool = True) -> PreparedEdit:
    """``operation`` "edit" (inpaint: mask given, or the image's transparency) or "variation"
    (the reference alone: for /images/variations, or for an edit with a variation prompt
    where the provider has no variations endpoint)."""
    if operation not in ("edit", "variation"):
        raise ValueError(f"operation must be 'edit' or 'variation', not {operation!r}")
    warnings: list[str] = []
    opaque = _opaque_source(image)  # JPEG bytes: no alpha to look for
    if operation == "edit" and mask is not None:
        # both decodes at once: the browser decodes off the main thread, Pillow in worker threads
        loaded, mask_pic = await _both(_load_image(imaging, profile, image), load_picture(imaging, mask))
    else:
        loaded, mask_pic = await _load_image(imaging, profile, image), None
    original, pic, (w, h) = loaded  # original None: pic is a smaller decode, for the upload only

    paint_mask = None
    if operation == "edit" and mask_pic is not None:
        if imaging.size(mask_pic) != (w, h):
            warnings.append(mask_stretched(imaging.size(mask_pic), (w, h)))
    elif operation == "edit":
        paint_mask = await _mask_from_transparency(imaging, pic, use_transparency and not opaque)
    elif mask is not None:
        warnings.append("A mask was given for a variation and ignored: variations redo the whole image.")

    # 1. the square some models need: crop for variations (the whole frame is redone anyway),
    #    pad for edits (no pixel of the original may be lost)
    if profile.edit_square and w != h and operation == "edit" and paint_mask is None:
        paint_mask = await _full_size_mask(imaging, mask_pic, (w, h))  # padded below, at full size
    pmask, place = paint_mask, (0, 0, w, h)
    padded = False
    if profile.edit_square and w != h:
        if operation == "variation":
            side = min(w, h)
            left, top = (w - side) // 2, (h - side) // 2
            pic = await imaging.crop(pic, (left, top, left + side, top + side))
            place = (-left, -top, w, h)
            warnings.append(f"The image was cropped to a {side}x{side} square: {profile.id} needs square images.")
        else:
            side = max(w, h)
            left, top = (side - w) // 2, (side - h) // 2
            pic = await imaging.pad(pic, (side, side), (left, top))
            padded = True
            # pad fills with alpha 0, which in a mask means "paint": pad the inverted mask
            # instead, so the added border is "keep" and the model works only where asked
            pmask = await imaging.invert_mask(
                await imaging.pad(await imaging.invert_mask(paint_mask), (side, side), (left, top)))
            place = (left, top, w, h)
    pw, ph = imaging.size(pic) if original is not None else (w, h)  # the sizes the upload maps to

    # 2. no bigger than the model can use
    scale = _edge_scale(profile, (pw, ph))

    # 3. encoded under the byte limit, shrinking step by step if need be; the mask for the
    #    first size is made meanwhile (Pillow works in threads, the browser off its main
    #    thread for decode and encode), and again only if the image had to shrink
    transparent = False if opaque and not padded else await imaging.has_transparency(pic)
    fmt = _upload_format(profile, transparent)
    first = _scaled((pw, ph), scale)
    if original is None and max(imaging.size(pic)) <= max(first):
        first = imaging.size(pic)  # the smaller decode, a little short of the edge: as it is
        scale = max(first) / max(pw, ph)
    mask_src = pmask if pmask is not None else mask_pic
    fitted, mask_bytes = await _both(
        _fit_upload(imaging, pic, (pw, ph), first, scale, fmt, profile, transparent),
        _upload_mask(imaging, mask_src, first, profile) if operation == "edit" else None)
    data, used, size, step = fitted
    if operation == "edit" and size != first:
        mask_bytes = await _upload_mask(imaging, mask_src, size, profile)
    if step:
        warnings.append(
            f"The image was downscaled to {size[0]}x{size[1]} to stay under "
            f"{profile.edit_max_bytes / (1024 * 1024):g} MB for {profile.id}."
        )
    if mask_bytes is None and operation == "edit":  # the painted area vanished at upload size
        if pmask is None:  # was anything painted at all? (the full-size mask answers; rare)
            await _full_size_mask(imaging, mask_pic, (w, h))
        raise ImageInputError(
            "The painted area vanished when the image was scaled down for upload: paint a larger area.")

    sx, sy = size[0] / pw, size[1] / ph
    placement = (round(place[0] * sx), round(place[1] * sy), round(place[2] * sx), round(place[3] * sy))
    return PreparedEdit(
        images=[data], image_mimes=[_MIME[used]], mask=mask_bytes, original=original,
        paint_mask=paint_mask, upload_size=size, placement=placement, warnings=warnings,
        mask_source=mask_pic if paint_mask is None else None, original_size=(w, h),
        original_source=bytes(image) if original is None else None)


def _edge_scale(profile: ModelProfile, size: tuple[int, int]) -> float:
    """The scale that brings ``size`` within the model's longest useful edge (1: as it is)."""
    if profile.edit_max_edge and max(size) > profile.edit_max_edge:
        return profile.edit_max_edge / max(size)
    return 1.0


def _scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))


async def warm_upload(imaging: Imaging, profile: ModelProfile, picture: Any) -> None:
    """Make, ahead of an edit, the upload ``prepare_edit`` will make from ``picture`` for
    ``profile``: its scaled copy and encoding.  Worth it with a backend that keeps those with
    the picture (the browser's canvas): the page calls this while the user paints the mask,
    and a 12 MP photo's resize and JPEG encode (~200 ms of the main thread on a 2-core EPYC)
    are then done when Edit is clicked.  Elsewhere it only costs the work.  Square-only
    models pad or crop first: nothing to make ahead for them."""
    if profile.edit_square:
        return
    pw, ph = imaging.size(picture)
    scale = _edge_scale(profile, (pw, ph))
    first = _scaled((pw, ph), scale)
    up = await imaging.resize(picture, first, keep=True) if first != (pw, ph) else picture
    transparent = await imaging.has_transparency(picture)
    await _encode_within(imaging, up, _upload_format(profile, transparent), profile, transparent)


async def _both(a, b):
    """Await two steps side by side; if either fails, the first one's error is raised (as
    when they ran in turn) once both have ended: nothing is left running."""
    if b is None:
        return await a, None
    got = await asyncio.gather(a, b, return_exceptions=True)
    for item in got:
        if isinstance(item, BaseException):
            raise item
    return got[0], got[1]


async def _fit_upload(imaging: Imaging, pic: Any, pic_size: tuple[int, int], first: tuple[int, int],
                      scale: float, fmt: str, profile: ModelProfile,
                      transparent: bool) -> tuple[bytes, str, tuple[int, int], int]:
    """(bytes, format, size, shrink steps) of the upload under the model's byte limit: ``first``
    if it fits, then ``pic_size`` (what the upload maps to; ``pic`` may be a smaller decode of
    it) scaled down step by step from ``scale``."""
    pw, ph = pic_size
    size = first
    for step in range(_MAX_STEPS):
        up = await imaging.resize(pic, size) if size != imaging.size(pic) else pic
        data, used = await _encode_within(imaging, up, fmt, profile, transparent)
        if data is not None:
            return data, used, size, step
        scale *= _SHRINK
        size = _scaled((pw, ph), scale)
    raise ImageInputError(
        f"The image cannot be made smaller than {profile.edit_max_bytes / (1024 * 1024):g} MB "
        f"for {profile.id}. Use a smaller or simpler image."
    )


async def _upload_mask(imaging: Imaging, mask: Any, size: tuple[int, int], profile: ModelProfile) -> bytes | None:
    """The mask at the upload's size as PNG (resized and re-thresholded); None if nothing
    painted is left at that size."""
    up_mask, _ = await imaging.normalize_mask(mask, size)
    if not await imaging.has_transparency(up_mask):
        return None
    data = await imaging.encode_mask(up_mask)
    if len(data) > profile.edit_mask_max_bytes:
        raise ImageInputError("The mask is too detailed to upload (over 4 MB): paint simpler shapes.")
    return data


async def _full_size_mask(imaging: Imaging, mask: Any, size: tuple[int, int]) -> Any:
    """A given mask at the original's size; refused if it marks nothing."""
    paint_mask, _ = await imaging.normalize_mask(mask, size)  # the stretch warning is prepare's
    if not await imaging.has_transparency(paint_mask):
        raise ImageInputError(
            "The mask marks nothing to repaint: paint (white, or transparent) over the part to change.")
    return paint_mask


async def _mask_from_transparency(imaging: Imaging, original: Any, use_transparency: bool) -> Any:
    if use_transparency and await imaging.has_transparency(original):
        paint_mask = await imaging.mask_from_alpha(original)
        if not await imaging.has_transparency(paint_mask):
            raise ImageInputError(
                "The image is only slightly transparent: make the part to repaint fully transparent, "
                "or paint a mask.")
        return paint_mask
    raise ImageInputError(
        "Inpainting needs to know where to paint: paint a mask over the image, give a mask image "
        "(white or transparent = repaint), or use a PNG whose transparent part is the area to fill.")


def _opaque_source(image: Any) -> bool:
    """True for JPEG bytes (the format has no alpha channel): sniffed, not decoded."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return sniff.sniff_format(bytes(image[:64])) == "jpeg"
    return False


def _upload_format(profile: ModelProfile, transparent: bool = True) -> str:
    if not transparent and not profile.edit_requires_rgba and "jpeg" in profile.edit_formats:
        return "jpeg"
    for fmt in ("png", "webp", "jpeg"):  # lossless and alpha first
        if fmt in profile.edit_formats:
            return fmt
    raise ImageInputError(f"{profile.id} accepts no image format this library can write.")


async def _encode_within(imaging: Imaging, pic: Any, fmt: str, profile: ModelProfile,
                         transparent: bool) -> tuple[bytes | None, str]:
    """Encoded bytes under the limit, or None.  An opaque image that is too big as PNG is
    tried as JPEG (where accepted) before the caller gives up pixels."""
    data = await imaging.encode(pic, fmt, _JPEG_QUALITY if fmt == "jpeg" else 95, fast=True)
    if len(data) <= profile.edit_max_bytes:
        return data, fmt
    if fmt != "jpeg" and not transparent and not profile.edit_requires_rgba and "jpeg" in profile.edit_formats:
        data = await imaging.encode(pic, "jpeg", _JPEG_QUALITY, fast=True)
        if len(data) <= profile.edit_max_bytes:
            return data, "jpeg"
    return None, fmt
