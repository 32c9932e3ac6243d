"""imagesynth: Wolfram's ImageSynthesize for Python and the browser.

``image_synthesize(spec, n, image_size=..., ...)`` returns Pillow images;
``image_synthesize_async`` is the same for callers in an event loop; the
browser app drives ``imagesynth.orchestrate.synthesize`` directly.

Imports are lazy (PEP 562 ``__getattr__``): importing the package pulls in
neither Pillow nor ``requests``, so it imports on Pyodide, where neither may
exist.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "image_synthesize": ("api", "image_synthesize"),
    "image_synthesize_async": ("api", "image_synthesize_async"),
    "ServiceConnection": ("auth", "ServiceConnection"),
    "Options": ("orchestrate", "Options"),
    "synthesize": ("orchestrate", "synthesize"),
    "list_models": ("orchestrate", "list_models"),
    "ProgressEvent": ("progress", "ProgressEvent"),
    "GeneratedImage": ("result", "GeneratedImage"),
    "ImageSynthError": ("errors", "ImageSynthError"),
    "ImageSynthWarning": ("errors", "ImageSynthWarning"),
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'imagesynth' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value
