"""ImageSize: what the user gets, and what to ask the model for.

``ImageSize`` names the size of the image the *user* gets, not what the model
makes: GPT image models make no 256² image, so "Small" is generated at the
nearest size the model does make and resampled down.  ``resolve_size`` is pure
and raises InputError for a size the model cannot serve, before any request,
so no money is spent on an image we would have to upscale.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .errors import InputError
from .models import ModelProfile

NAMED_SIZES = {"small": (256, 256), "medium": (512, 512), "large": (1024, 1024)}
_AUTOMATIC = {"automatic", "auto", "default", ""}
#: aspect limit for models with a fixed size list: beyond it a center crop throws
#: away most of what was paid for, so we refuse instead.
DEFAULT_MAX_ASPECT = 3.0
_WXH = re.compile(r"^\s*(\d+)\s*[xX×*,]\s*(\d+)\s*$")


@dataclass(frozen=True)
class SizePlan:
    """How to get the size asked for from the sizes a model makes: what to request, then crop and resample."""
    target: tuple[int, int] | None  # size of the images the user gets; None = whatever the model makes
    request: str  # the API's size string, e.g. "1024x1024" or "auto"
    #: (w, h) the model will return for ``request`` (None for "auto")
    generated: tuple[int, int] | None
    #: crop box applied to the generated image before resampling to target (aspect fix), or None
    crop: tuple[int, int, int, int] | None = None

    @property
    def needs_resample(self) -> bool:
        return self.target is not None and self.generated is not None and (
            self.crop is not None or self.generated != self.target
        )


def _choices() -> str:
    return '"Small" (256x256), "Medium" (512x512), "Large" (1024x1024), "Automatic", (width, height) or "WIDTHxHEIGHT"'


def _positive(w, h, original) -> tuple[int, int]:
    for v in (w, h):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
            raise InputError(f"Image size {original!r} must be two whole numbers of pixels; use {_choices()}.")
    w, h = int(w), int(h)
    if w <= 0 or h <= 0:
        raise InputError(f"Image size {original!r} must have a positive width and height; use {_choices()}.")
    return w, h


def parse_image_size(value) -> tuple[int, int] | None:
    """"Small"/"Medium"/"Large" (any case), "Automatic"/None, (w, h), "WxH" → (w, h) or None."""
    if value is None:
        return None
    if isinstance(value, str):
        key = value.strip().lower()
        if key in _AUTOMATIC:
            return None
        if key in NAMED_SIZES:
            return NAMED_SIZES[key]
        m = _WXH.match(value)
        if m:
            return _positive(int(m.group(1)), int(m.group(2)), value)
        if re.match(r"^\s*-?\d+\s*[xX×*,]\s*-?\d+\s*$", value):
            raise InputError(f"Image size {value!r} must have a positive width and height; use {_choices()}.")
        raise InputError(f"Unknown image size {value!r}; use {_choices()}.")
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return _positive(value[0], value[1], tuple(value))
    raise InputError(f"Image size {value!r} is not a size; use {_choices()}.")


def _parse_wxh(s: str) -> tuple[int, int]:
    w, h = s.lower().split("x")
    return int(w), int(h)


def center_crop(generated: tuple[int, int], target: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The largest centered box of the target's aspect inside ``generated``; None if aspects match."""
    gw, gh = generated
    tw, th = target
    if gw * th == gh * tw:
        return None
    if gw * th > gh * tw:  # generated is wider than the target's aspect
        cw = max(1, round(gh * tw / th))
        left = (gw - cw) // 2
        return (left, 0, left + cw, gh)
    ch = max(1, round(gw * th / tw))
    top = (gh - ch) // 2
    return (0, top, gw, top + ch)


def _box_size(box, generated) -> tuple[int, int]:
    if box is None:
        return generated
    return box[2] - box[0], box[3] - box[1]


def _max_aspect(profile: ModelProfile) -> float:
    rule = profile.sizes
    return rule.max_aspect if rule.arbitrary and rule.max_aspect > 1 else DEFAULT_MAX_ASPECT


def _default_plan(profile: ModelProfile, operation: str) -> SizePlan:
    rule = profile.sizes
    if rule.auto:
        return SizePlan(target=None, request="auto", generated=None)
    fixed = list(rule.fixed)
    # The contract's default for the fixed-list models is 1024x1024.
    request = "1024x1024" if "1024x1024" in fixed else fixed[0]
    return SizePlan(target=None, request=request, generated=_parse_wxh(request))


def _arbitrary(profile: ModelProfile, target: tuple[int, int]) -> tuple[int, int] | None:
    """Target scaled up to the pixel floor and rounded up to the grid; None if beyond the limits."""
    rule = profile.sizes
    tw, th = target
    scale = 1.0
    if rule.min_pixels and tw * th < rule.min_pixels:
        scale = math.sqrt(rule.min_pixels / (tw * th))
    step = max(1, rule.multiple_of)
    w = math.ceil(tw * scale / step - 1e-9) * step
    h = math.ceil(th * scale / step - 1e-9) * step
    # rounding each edge up can only grow the area, so the floor still holds
    if rule.max_edge and max(w, h) > rule.max_edge:
        return None
    if rule.max_pixels and w * h > rule.max_pixels:
        return None
    return w, h


def _largest_text(profile: ModelProfile) -> str:
    rule = profile.sizes
    if rule.arbitrary:
        limit = f"at most {rule.max_edge} px on a side"
        if rule.max_pixels:
            limit += f" and {rule.max_pixels:,} pixels"
        return limit
    sizes = list(rule.fixed)
    listed = sizes[0] if len(sizes) == 1 else ", ".join(sizes[:-1]) + " and " + sizes[-1]
    return f"it makes {listed}; images are scaled down from these, never up"


def resolve_size(profile: ModelProfile, image_size, operation: str = "generate") -> SizePlan:
    """Pick the size to request so the user's size can be cut and scaled *down* from it.

    Same aspect beats a crop (nothing paid for is thrown away); among equals the
    smallest that covers the target wins (cheaper, faster).
    """
    target = parse_image_size(image_size)
    if target is None:
        return _default_plan(profile, operation)
    tw, th = target
    aspect = max(tw, th) / min(tw, th)
    limit = _max_aspect(profile)
    if aspect > limit + 1e-9:
        raise InputError(
            f"Image size {tw}x{th} has an aspect ratio of {aspect:.2f}:1; {profile.id} can make at most "
            f"{limit:g}:1. Choose a size closer to square."
        )
    rule = profile.sizes
    if rule.arbitrary:
        made = _arbitrary(profile, target)
        if made is None:
            raise InputError(
                f"{tw}×{th} is larger than {profile.id} can make ({_largest_text(profile)}); "
                f"choose a smaller size."
            )
        return SizePlan(target=target, request=f"{made[0]}x{made[1]}", generated=made,
                        crop=center_crop(made, target))

    best = None
    for s in rule.fixed:
        g = _parse_wxh(s)
        box = center_crop(g, target)
        cw, ch = _box_size(box, g)
        if cw < tw or ch < th:
            continue
        mismatch = abs(math.log((g[0] / g[1]) / (tw / th)))
        key = (round(mismatch, 6), g[0] * g[1])
        if best is None or key < best[0]:
            best = (key, s, g, box)
    if best is None:
        raise InputError(
            f"{tw}×{th} is larger than {profile.id} can make ({_largest_text(profile)}); "
            f"choose a smaller size or a model that makes larger images."
        )
    _, s, g, box = best
    return SizePlan(target=target, request=s, generated=g, crop=box)


def size_allowed(profile: ModelProfile, size: str) -> bool:
    """Whether ``size`` (an API size string) is one the model accepts as is."""
    rule = profile.sizes
    if size == "auto":
        return rule.auto
    if size in rule.fixed:
        return True
    if not rule.arbitrary:
        return False
    m = re.fullmatch(r"(\d+)x(\d+)", size)
    if not m:
        return False
    w, h = int(m.group(1)), int(m.group(2))
    step = max(1, rule.multiple_of)
    return (
        w > 0 and h > 0 and w % step == 0 and h % step == 0
        and (not rule.max_edge or max(w, h) <= rule.max_edge)
        and (not rule.max_pixels or w * h <= rule.max_pixels)
        and (not rule.min_pixels or w * h >= rule.min_pixels)
        and max(w, h) / min(w, h) <= _max_aspect(profile) + 1e-9
    )
