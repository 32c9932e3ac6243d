"""Progress events: what a watcher (progress bar, web page) is told, per image.

Stages, in order: preparing, uploading, waiting, partial (k of K, with a
preview), decoding, done; or retrying / failed.  ``index`` is the image's
place in the result (0..n-1), so a view can keep one row per image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .reprs import brief_repr

STAGES = ("preparing", "uploading", "waiting", "partial", "decoding", "done", "retrying", "failed")


@brief_repr
@dataclass
class ProgressEvent:
    """One step of one image, for whoever watches (the command's progress bar, the page's run card)."""
    stage: str
    index: int  # which image of the n
    total: int  # n
    elapsed: float = 0.0  # seconds since the call started
    partial_index: int | None = None  # k for stage "partial"
    partial_count: int | None = None  # partial_images asked for
    image: Any = None  # preview (encoded bytes) for "partial"; the GeneratedImage for "done"
    message: str = ""  # e.g. "rate limited, retrying in 4 s"
    error: Exception | None = None  # for "failed"


ProgressCallback = Callable[[ProgressEvent], Any]
