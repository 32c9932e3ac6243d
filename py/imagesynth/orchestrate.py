"""Running a task: inputs fitted, n split into requests, requests run
concurrently with retries, results finished and reported as they arrive.

Owner: orchestration helper.  Async, with the transport and the imaging
implementation passed in, so the browser (fetch + canvas) and CPython
(requests + Pillow) run this same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .http import Transport
from .imaging.base import Imaging
from .progress import ProgressCallback
from .protocol import Endpoint
from .result import GeneratedImage

VARIATION_PROMPT = (
    "Make a variation of this image: keep its subject, composition, palette and style, "
    "change the details."
)


@dataclass
class Options:
    n: int = 1
    image_size: Any = None  # "Small" | "Medium" | "Large" | (w, h) | "WxH" | None
    model: str | None = None  # None: the newest GPT image model the endpoint lists
    #: model parameters: quality, style, background, output_format, output_compression,
    #: moderation, input_fidelity
    params: dict[str, Any] = field(default_factory=dict)
    stream: bool | None = None  # None: stream when the model can and someone watches progress
    partial_images: int = 2
    paste_back: bool = True
    feather: int = 8
    max_retries: int = 4
    concurrency: int = 4
    variation_prompt: str = VARIATION_PROMPT


async def synthesize(spec: Any, endpoint: Endpoint, *, options: Options, transport: Transport,
                     imaging: Imaging, progress: ProgressCallback | None = None,
                     available_models: list[str] | None = None) -> list[GeneratedImage]:
    """Run an ImageSynthesize call form.  ``progress`` may be sync or async; an async callback
    is awaited, so a "done" event's image is persisted by the caller before the next step.
    Cancelling the asyncio task cancels every request in flight (transports abort)."""
    raise NotImplementedError


async def list_models(endpoint: Endpoint, transport: Transport) -> list[str]:
    raise NotImplementedError
