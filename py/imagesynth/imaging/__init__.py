"""The imaging interface and its implementations.

``base.Imaging`` is the contract; ``pillow.PillowImaging`` implements it on
Pillow (CPython, and Pyodide where a Pillow wheel is available);
``canvas.CanvasImaging`` on the browser's own canvas codecs.  Both pass
tests/imaging_contract.py.  ``default_imaging()`` picks the best available.
"""

from __future__ import annotations

from .base import Imaging, Limits  # noqa: F401


def default_imaging() -> Imaging:
    try:
        from .pillow import PillowImaging
    except ImportError:
        from .canvas import CanvasImaging

        return CanvasImaging()
    return PillowImaging()
