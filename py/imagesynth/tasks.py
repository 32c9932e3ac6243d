"""The call forms of ImageSynthesize → a task.

Owner: orchestration helper.  ``"text"`` → generate; an image → vary;
``{"Text", "Image"}`` → inpaint the transparent part; ``{"Text", "Image",
"Mask"}`` → inpaint under the mask.  Images may be bytes, a path, or a native
picture (PIL.Image on CPython).

Keys are matched case-insensitively ("Text", "text", "TEXT") because the
forms come from Wolfram's documentation, where they are capitalised, while
Python callers write lower case.  A plain ``str`` is always a prompt, never a
path: a path must be a ``pathlib.Path`` (or other ``os.PathLike``), so a
prompt that happens to name a file is not silently read from disk.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .errors import ImageInputError, InputError
from .reprs import brief_repr


@brief_repr
@dataclass
class Task:
    """What to make, in ImageSynthesize's forms: text, an image, text and image, text, image and mask."""
    kind: str  # "generate" | "vary" | "inpaint"
    prompt: str | None = None
    image: Any = None  # bytes or a native picture (paths are read here)
    mask: Any = None


_KEYS = ("text", "image", "mask")
_NOT_IMAGES = (int, float, bool, list, tuple, set, frozenset, type(None))


def _prompt(value: Any) -> str:
    if not isinstance(value, str):
        raise InputError(f"the text of an ImageSynthesize call must be a string, not {type(value).__name__}")
    if not value.strip():
        raise InputError("the prompt is empty: describe the image you want")
    return value


def _image(value: Any, what: str) -> Any:
    """bytes stay bytes; a path is read now (a missing file is an input error before anything is
    sent); anything else is taken to be a native picture and checked by the imaging layer."""
    if isinstance(value, (bytearray, memoryview)):
        value = bytes(value)
    if isinstance(value, bytes):
        if not value:
            raise ImageInputError(f"the {what} is empty (0 bytes)")
        return value
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise ImageInputError(f"the {what} file {path!r} does not exist") from None
        except IsADirectoryError:
            raise ImageInputError(f"the {what} path {path!r} is a folder, not an image file") from None
        except OSError as e:
            raise ImageInputError(f"cannot read the {what} file {path!r}: {e.strerror or e}") from None
        return _image(data, what)
    if isinstance(value, str):
        raise InputError(
            f"the {what} is a string; pass image bytes, a pathlib.Path or a picture "
            "(a plain string is read as a prompt)"
        )
    if isinstance(value, (dict, *_NOT_IMAGES)):
        raise InputError(f"the {what} must be image bytes, a pathlib.Path or a picture, not {type(value).__name__}")
    return value


def task_from_spec(spec: Any) -> Task:
    """Map one of the four call forms to a Task, or raise InputError saying which forms exist."""
    if isinstance(spec, str):
        return Task("generate", prompt=_prompt(spec))
    if isinstance(spec, dict):
        found: dict[str, Any] = {}
        for key, value in spec.items():
            k = key.lower() if isinstance(key, str) else key
            if k not in _KEYS:
                raise InputError(
                    f"unknown key {key!r} in the ImageSynthesize spec; use \"Text\", \"Image\" and \"Mask\""
                )
            if k in found:
                raise InputError(f"the key {k.capitalize()!r} is given twice (keys are case-insensitive)")
            found[k] = value
        text, image, mask = found.get("text"), found.get("image"), found.get("mask")
        if mask is not None and image is None:
            raise InputError("a \"Mask\" needs the \"Image\" it applies to")
        if image is None:
            if text is None:
                raise InputError("the ImageSynthesize spec is empty: give \"Text\", \"Image\" or both")
            return Task("generate", prompt=_prompt(text))
        img = _image(image, "image")
        if text is None:
            if mask is not None:
                raise InputError("an inpaint needs \"Text\" saying what to paint under the mask")
            return Task("vary", image=img)
        return Task("inpaint", prompt=_prompt(text), image=img,
                    mask=_image(mask, "mask") if mask is not None else None)
    if isinstance(spec, _NOT_IMAGES):
        raise InputError(
            f"cannot synthesize from {type(spec).__name__}: give a prompt string, an image, "
            "{\"Text\": ..., \"Image\": ...} or {\"Text\": ..., \"Image\": ..., \"Mask\": ...}"
        )
    return Task("vary", image=_image(spec, "image"))
