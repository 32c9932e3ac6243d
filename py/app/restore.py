"""Drop a PNG made by imagesynth on the page: its prompt and settings fill the form.

Why through ``share.validate_settings``: a dropped file is as untrusted as a
hand-made link (anyone can write an ``imagesynth`` chunk), and the form should
be filled by one set of rules whatever the source.  The parameters a PNG
carries (``imagesynth.pngmeta``) are the record of a run (seed, provider,
generated size, ...); only the ones that are form settings come back.

Nothing is decoded but the PNG's text chunks: no pixels, no Pillow.
"""

from __future__ import annotations

from typing import Any

from imagesynth.imaging.sniff import nice_format, sniff_format
from imagesynth.pngmeta import read_params

from .share import validate_settings

#: the most a dropped file may weigh before it is refused unread
MAX_BYTES = 256 * 1024 * 1024

#: PNG parameter → form setting, where the names differ
_RENAMED = {"pasted_back": "paste_back"}
_COPIED = ("prompt", "task", "n", "model", "quality", "style", "background", "output_format",
           "output_compression", "moderation", "input_fidelity")

NO_PARAMS_MESSAGE = ("This PNG holds no imagesynth settings, so there is nothing to restore: only images "
                     "imagesynth saved as PNG carry their prompt and settings.")


class RestoreError(ValueError):
    """A dropped file that cannot fill the form; ``str()`` is one plain sentence for the page."""


def params_from_png(png_bytes: bytes) -> dict | None:
    """The form settings stored in an imagesynth PNG, validated; None when it has none
    (not a PNG, not ours, or damaged).  ``restore`` says why, for the page's message."""
    try:
        return restore(png_bytes)[0]
    except RestoreError:
        return None


def restore(data: bytes) -> tuple[dict, list[str]]:
    """(settings, warnings) from a dropped file, or RestoreError with a sentence saying why not."""
    if not isinstance(data, (bytes, bytearray, memoryview)) or not len(data):
        raise RestoreError("The dropped item is not a file with anything in it.")
    if len(data) > MAX_BYTES:
        raise RestoreError("The dropped file is far larger than any image imagesynth makes, so it was not read.")
    data = bytes(data)
    fmt = sniff_format(data)
    if fmt != "png":
        if fmt in ("jpeg", "webp"):
            raise RestoreError(f"This is a {nice_format(fmt)} image. imagesynth keeps a prompt and its settings "
                               "only inside the PNG images it saves, so there is nothing to restore.")
        raise RestoreError("This file is not a PNG image. Drop a PNG that imagesynth made to restore its prompt "
                           "and settings.")
    try:
        params = read_params(data)
    except Exception:  # pngmeta stops quietly at damage; this guards against what it did not foresee
        params = None
    if not params:
        raise RestoreError(NO_PARAMS_MESSAGE)
    settings, warnings = validate_settings(settings_from_params(params))
    if not settings.get("prompt") and settings.get("task", "generate") != "vary":
        raise RestoreError("This PNG's imagesynth settings hold no prompt, so there is nothing to restore.")
    if settings.get("task") in ("vary", "inpaint"):
        warnings.append("The form now has this image's prompt and settings; the image and mask it started from "
                        "are not stored in the PNG, so add them again.")
    return settings, warnings


def settings_from_params(params: dict[str, Any]) -> dict[str, Any]:
    """PNG parameters (as ``orchestrate`` records them) → the form's settings, unvalidated.

    ``size`` is recorded only when the user asked for one (the target size); its absence means
    "Automatic".  Stream, previews and feather are not recorded: the form keeps its own."""
    out: dict[str, Any] = {k: params[k] for k in _COPIED if k in params}
    for old, new in _RENAMED.items():
        if old in params:
            out[new] = params[old]
    out["size"] = params.get("size") or "Automatic"
    return out
