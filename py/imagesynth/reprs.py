"""Reprs that say how many bytes an image holds instead of spelling them out.

A dataclass's own repr prints every byte of every field. A ``GeneratedImage`` at
the REPL filled the screen with one PNG. CPython 3.11's ``asyncio.run`` also
formats its main task's result when it puts back the SIGINT handler. So a
coroutine that returned a ``PreparedEdit`` spent ~80 ms on a 2-core EPYC turning
its 5 MB of uploads into a string that nobody reads.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

_BYTES = (bytes, bytearray, memoryview)


def brief(value: Any) -> str:
    """``repr(value)``, with bytes (alone or in a list) as their length."""
    if isinstance(value, _BYTES):
        return f"<{memoryview(value).nbytes} bytes>"
    if isinstance(value, list) and any(isinstance(item, _BYTES) for item in value):
        return "[" + ", ".join(brief(item) for item in value) + "]"
    return repr(value)


def brief_repr(cls: type) -> type:
    """Class decorator, above ``@dataclass``: its repr, with bytes fields as their length."""
    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={brief(getattr(self, f.name))}" for f in fields(self) if f.repr)
        return f"{type(self).__qualname__}({shown})"

    cls.__repr__ = __repr__
    return cls
