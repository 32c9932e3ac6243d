"""File names from prompts, shared by the command (files it writes) and the
page (downloads and history exports), so both name an image the same way."""

from __future__ import annotations

import re


def slug(text: str | None, fallback: str = "image", limit: int = 40) -> str:
    """File-name-safe words of the prompt: "A cat, in a hat!" → "a-cat-in-a-hat"."""
    words = re.findall(r"[a-z0-9]+", (text or "").lower())
    s = ""
    for w in words:
        if len(s) + len(w) + 1 > limit:
            break
        s = f"{s}-{w}" if s else w
    return s or (words[0][:limit] if words else fallback)
