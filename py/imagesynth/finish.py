"""After the API answers: paste back, resample to ImageSize, write parameters.

Owner: imaging helper.
"""

from __future__ import annotations

from typing import Any

from .imaging.base import Imaging
from .prepare import PreparedEdit
from .result import GeneratedImage
from .sizes import SizePlan


async def finish_image(imaging: Imaging, data: bytes, *, plan: SizePlan, params: dict[str, Any],
                       prepared: PreparedEdit | None = None, paste_back: bool = True,
                       feather: int = 8, output_format: str = "png", index: int = 0) -> GeneratedImage:
    raise NotImplementedError
