"""Generation parameters inside PNG files (iTXt chunk ``imagesynth`` holding JSON).

Owner: imaging helper.  Pure Python on the bytes, so the browser (no Pillow)
and CPython write and read the same thing.
"""

from __future__ import annotations


def write_params(png: bytes, params: dict) -> bytes:
    raise NotImplementedError


def read_params(png: bytes) -> dict | None:
    raise NotImplementedError
