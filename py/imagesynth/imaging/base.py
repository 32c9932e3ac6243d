"""The imaging contract the core relies on.

Methods are async because the browser's codecs are (createImageBitmap,
convertToBlob); the Pillow implementation simply does its work inline.
A "picture" is whatever native object an implementation uses (a Pillow image,
a canvas); the core only passes it back to the same implementation.

Mask convention everywhere in the core: an RGBA picture whose alpha is 0 where
the model may paint and 255 where the original must stay (the API's own
convention for ``mask``).  Masks the core makes are binary: the API honours only
alpha exactly 0, so grey is thresholded at ``PAINT_THRESHOLD`` (alpha below it
counts as transparent, i.e. paint); soft edges come from ``paste_back``'s feather.

Boxes are Pillow's (left, top, right, bottom); sizes are (width, height).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: alpha below this (or, in a black/white mask, grey at or above it) means "paint here"
PAINT_THRESHOLD = 128


def mask_stretched(mask_size: tuple[int, int], image_size: tuple[int, int]) -> str:
    """The warning when a mask of another size than its image is stretched to fit (one
    wording for every backend, and for ``prepare``, which checks before scaling)."""
    return (f"The mask is {mask_size[0]}x{mask_size[1]} but the image is {image_size[0]}x{image_size[1]}; "
            "the mask was stretched to fit. Make the mask the same size as the image to avoid this.")


@dataclass(frozen=True)
class Limits:
    """Guards applied before and during decoding of untrusted images."""

    max_bytes: int = 50 * 1024 * 1024  # refused before decoding
    max_pixels: int = 64_000_000  # refused at header read, before pixel data is decoded
    formats: tuple[str, ...] = ("png", "jpeg", "webp", "gif")


class Imaging:
    """Interface. Every method may raise ImageInputError with a plain message."""

    #: shown in the app's About panel, e.g. "Pillow 12.0.0" or "browser canvas"
    name: str = "abstract"

    async def decode(self, data: bytes, limits: Limits = Limits()) -> Any:
        """Bytes → picture: format sniffed and allow-listed, byte and pixel limits enforced,
        EXIF orientation applied, first frame of an animation, converted to RGBA."""
        raise NotImplementedError

    async def decode_reduced(self, data: bytes, min_edge: int,
                             limits: Limits = Limits()) -> tuple[Any, tuple[int, int]] | None:
        """For an upload that is scaled down anyway: the picture decoded smaller, its longest
        edge no shorter than ``min_edge``, with the size ``decode`` would have given (EXIF
        orientation applied), or None when that is no quicker than ``decode``.  Worth having
        where the format lets the decoder skip detail: a JPEG decodes at 1/2, 1/4 or 1/8 of
        its size (DCT scaling) in a fraction of the time, and the resize after it shrinks
        with it.  The same checks and errors as ``decode``."""
        return None

    def adopt(self, obj: Any) -> Any:
        """A native object the library caller passed (e.g. a PIL.Image) → picture (RGBA)."""
        raise NotImplementedError

    def size(self, pic: Any) -> tuple[int, int]:
        raise NotImplementedError

    async def has_transparency(self, pic: Any) -> bool:
        """True if any pixel has alpha < 255."""
        raise NotImplementedError

    async def mask_from_alpha(self, pic: Any) -> Any:
        """The transparent part of an image as an explicit mask (alpha 0 where the image's
        alpha is below PAINT_THRESHOLD, 255 elsewhere)."""
        raise NotImplementedError

    async def normalize_mask(self, mask: Any, size: tuple[int, int]) -> tuple[Any, list[str]]:
        """A user's mask → the API convention, at ``size``.  Accepts alpha masks and black/white
        masks (white = paint here): a mask with any alpha < 255 is read by its alpha, an opaque
        one by its grey level.  Returns (binary mask, warnings); resizing warns; an opaque mask
        that is not clearly black and white (mid greys, colour: a photo) is an ImageInputError
        saying what a mask must look like."""
        raise NotImplementedError

    async def invert_mask(self, mask: Any) -> Any:
        """Paint area ↔ keep area (binary result)."""
        raise NotImplementedError

    async def resize(self, pic: Any, size: tuple[int, int], *, keep: bool = False) -> Any:
        """High-quality resample (Lanczos or the browser's 'high' smoothing).  ``keep``: the
        backend may keep the copy with ``pic`` and hand it (and its encodings) to later calls
        for the same size, where that saves work: the canvas one does (``prepare.warm_upload``);
        Pillow ignores it."""
        raise NotImplementedError

    async def crop(self, pic: Any, box: tuple[int, int, int, int]) -> Any:
        """``box`` is (left, top, right, bottom); parts outside the picture come out transparent."""
        raise NotImplementedError

    async def pad(self, pic: Any, size: tuple[int, int], offset: tuple[int, int]) -> Any:
        """Place ``pic`` at ``offset`` on a transparent canvas of ``size`` (outpainting, squaring)."""
        raise NotImplementedError

    async def paste_back(self, original: Any, edited: Any, mask: Any, feather: int) -> Any:
        """``edited`` inside the mask's paint area, ``original`` outside, blended over a
        ``feather``-pixel edge.  Sizes are equal (the core resizes first).

        The blend ramp lies *inside* the paint area (blur the paint area by ``feather``/3 as a
        Gaussian sigma, then map weights 50 %..100 % to 0..255), so every pixel outside the
        paint area is the original's exactly, and pixels more than ``feather`` inside are the
        edited image's exactly.  ``feather`` 0 is a hard edge."""
        raise NotImplementedError

    def lazy_picture(self, data: bytes, fmt: str) -> Any:
        """A picture for already-checked image bytes that decodes only when its pixels are
        used, or None where that costs as much as ``decode`` (finishing kept the API's bytes
        and needs no pixels; a library caller may still want the picture)."""
        return None

    async def encode(self, pic: Any, fmt: str = "png", quality: int = 95, *, fast: bool = False,
                     keep_alpha: bool = True) -> bytes:
        """Picture → bytes.  png keeps alpha (8-bit RGBA); jpeg flattens onto white; webp keeps
        alpha (lossless when quality >= 100).  Another ``fmt`` is an ImageInputError.
        ``fast``: speed over size (uploads): a light PNG compression level, no extra JPEG pass.
        ``keep_alpha`` False (results): a PNG of a fully opaque picture may go without its alpha
        channel, which costs Pillow more than half the time of a 12 MP write; uploads keep it,
        as endpoints may want RGBA (dall-e-2's did). A backend may ignore it."""
        raise NotImplementedError

    async def encode_mask(self, mask: Any) -> bytes:
        """A binary mask (``normalize_mask``'s) → RGBA PNG for upload, quickly."""
        return await self.encode(mask, "png", fast=True)
