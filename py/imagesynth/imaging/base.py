"""The imaging contract the core relies on.

Methods are async because the browser's codecs are (createImageBitmap,
convertToBlob); the Pillow implementation simply does its work inline.
A "picture" is whatever native object an implementation uses (a Pillow image,
a canvas); the core only passes it back to the same implementation.

Mask convention everywhere in the core: an RGBA picture whose alpha is 0 where
the model may paint and 255 where the original must stay (the API's own
convention for ``mask``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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

    def adopt(self, obj: Any) -> Any:
        """A native object the library caller passed (e.g. a PIL.Image) → picture (RGBA)."""
        raise NotImplementedError

    def size(self, pic: Any) -> tuple[int, int]:
        raise NotImplementedError

    async def has_transparency(self, pic: Any) -> bool:
        """True if any pixel has alpha < 255."""
        raise NotImplementedError

    async def mask_from_alpha(self, pic: Any) -> Any:
        """The transparent part of an image as an explicit mask (alpha 0 where transparent)."""
        raise NotImplementedError

    async def normalize_mask(self, mask: Any, size: tuple[int, int]) -> tuple[Any, list[str]]:
        """A user's mask → the API convention, at ``size``.  Accepts alpha masks and black/white
        masks (white = paint here).  Returns (mask, warnings); resizing warns; a mask with no
        alpha and no clear black/white is an ImageInputError."""
        raise NotImplementedError

    async def invert_mask(self, mask: Any) -> Any:
        raise NotImplementedError

    async def resize(self, pic: Any, size: tuple[int, int]) -> Any:
        """High-quality resample (Lanczos or the browser's 'high' smoothing)."""
        raise NotImplementedError

    async def crop(self, pic: Any, box: tuple[int, int, int, int]) -> Any:
        raise NotImplementedError

    async def pad(self, pic: Any, size: tuple[int, int], offset: tuple[int, int]) -> Any:
        """Place ``pic`` at ``offset`` on a transparent canvas of ``size`` (outpainting, squaring)."""
        raise NotImplementedError

    async def paste_back(self, original: Any, edited: Any, mask: Any, feather: int) -> Any:
        """``edited`` inside the mask's paint area, ``original`` outside, blended over a
        ``feather``-pixel edge.  Sizes are equal (the core resizes first)."""
        raise NotImplementedError

    async def encode(self, pic: Any, fmt: str = "png", quality: int = 95) -> bytes:
        """Picture → bytes (png keeps alpha)."""
        raise NotImplementedError
