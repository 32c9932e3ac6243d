"""The call forms of ImageSynthesize → a task.

Owner: orchestration helper.  ``"text"`` → generate; an image → vary;
``{"Text", "Image"}`` → inpaint the transparent part; ``{"Text", "Image",
"Mask"}`` → inpaint under the mask.  Images may be bytes, a path, or a native
picture (PIL.Image on CPython).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Task:
    kind: str  # "generate" | "vary" | "inpaint"
    prompt: str | None = None
    image: Any = None
    mask: Any = None


def task_from_spec(spec: Any) -> Task:
    raise NotImplementedError
