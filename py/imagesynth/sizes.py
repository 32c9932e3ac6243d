"""ImageSize: what the user gets, and what to ask the model for.

Owner: protocol helper.  ``resolve_size`` is pure and raises InputError for a
size the model cannot serve, before any request.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import ModelProfile

NAMED_SIZES = {"small": (256, 256), "medium": (512, 512), "large": (1024, 1024)}


@dataclass(frozen=True)
class SizePlan:
    target: tuple[int, int] | None  # size of the images the user gets; None = whatever the model makes
    request: str  # the API's size string, e.g. "1024x1024" or "auto"
    #: (w, h) the model will return for ``request`` (None for "auto")
    generated: tuple[int, int] | None
    #: crop box applied to the generated image before resampling to target (aspect fix), or None
    crop: tuple[int, int, int, int] | None = None


def parse_image_size(value) -> tuple[int, int] | None:
    """"Small"/"Medium"/"Large" (any case), "Automatic"/None, (w, h), "WxH" → (w, h) or None."""
    raise NotImplementedError


def resolve_size(profile: ModelProfile, image_size, operation: str = "generate") -> SizePlan:
    raise NotImplementedError
