"""What a synthesis returns, independent of the imaging implementation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .reprs import brief_repr


@brief_repr
@dataclass
class GeneratedImage:
    """One image as the caller gets it: encoded for saving, its parameters, and the decoded picture."""
    #: encoded image as it will be saved (PNG with parameters inside, unless the user asked for
    #: jpeg/webp)
    data: bytes
    mime: str
    width: int
    height: int
    #: generation parameters: prompt, revised_prompt, model, size, requested_size, task, seed,
    #: request_id, quality, ... (never credentials)
    params: dict[str, Any] = field(default_factory=dict)
    #: the implementation's native picture (a PIL image on CPython)
    picture: Any = None
    index: int = 0
