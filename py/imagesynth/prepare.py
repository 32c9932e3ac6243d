"""Fitting input images to what a model accepts, before upload.

Owner: imaging helper.  Uses only the ``Imaging`` interface, so it runs the
same on Pillow and on the browser canvas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .imaging.base import Imaging, Limits
from .models import ModelProfile


@dataclass
class PreparedEdit:
    images: list[bytes]  # encoded uploads, in the model's accepted format and byte limit
    image_mimes: list[str]
    mask: bytes | None  # PNG in API convention (alpha 0 = paint), same size as images[0]; None for variations
    original: Any  # the decoded reference picture at its own size (for paste-back)
    paint_mask: Any | None  # API-convention mask at the original's size (for paste-back)
    upload_size: tuple[int, int]  # size of images[0]
    #: where the original sits inside the upload: (left, top, width, height) after any square
    #: crop/pad and scaling, so results can be mapped back
    placement: tuple[int, int, int, int] = (0, 0, 0, 0)
    warnings: list[str] = field(default_factory=list)


async def load_picture(imaging: Imaging, source: Any, limits: Limits = Limits()) -> Any:
    """bytes | str/Path (read by the caller's layer, not here) | native picture → picture."""
    raise NotImplementedError


async def prepare_edit(imaging: Imaging, profile: ModelProfile, image: Any, mask: Any = None, *,
                       operation: str = "edit", use_transparency: bool = True) -> PreparedEdit:
    """``operation`` "edit" (inpaint: mask given, or the image's transparency) or "variation"."""
    raise NotImplementedError
