"""Generation parameters inside PNG files (iTXt chunk ``imagesynth`` holding JSON).

Pure Python on the bytes (zlib, struct, crc32), not Pillow: the browser has no
Pillow, and the browser and CPython must write and read the same thing.  Next
to our JSON we write the standard ``Software`` and ``Description`` (the prompt)
keywords, so file managers and image viewers show where an image came from.

Nothing that looks like a credential is ever written: keys named like one are
dropped, and so are strings that look like an API key, wherever they sit.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from typing import Any

SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = "imagesynth"
_OUR_KEYWORDS = {KEYWORD, "Software", "Description"}
_COMPRESS_ABOVE = 1024  # bytes of text; below that zlib saves nothing worth the bother
_MAX_TEXT = 1 << 20  # a metadata chunk inflating past 1 MB is hostile, not ours

_SECRET_NAME = re.compile(
    r"(^key$|api[_-]?key|apikey|secret|token|passw|authori[sz]|credential|cookie|bearer|"
    r"^auth$|session)",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(r"^\s*(bearer\s+)?(sk-|sess-|rk-)[A-Za-z0-9_\-]{8,}", re.IGNORECASE)


def scrub(value: Any) -> Any:
    """A JSON-ready copy of ``value`` with anything credential-like removed."""
    if isinstance(value, dict):
        return {str(k): scrub(v) for k, v in value.items()
                if not _SECRET_NAME.search(str(k)) and not _is_secret(v) and not _is_blob(v)}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value if not _is_secret(v) and not _is_blob(v)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _is_secret(v: Any) -> bool:
    return isinstance(v, str) and bool(_SECRET_VALUE.match(v))


def _is_blob(v: Any) -> bool:
    return isinstance(v, (bytes, bytearray, memoryview))


# --- chunks -------------------------------------------------------------------------------
def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _itxt(keyword: str, text: str) -> bytes:
    raw = text.encode("utf-8")
    compressed = len(raw) > _COMPRESS_ABOVE
    if compressed:
        raw = zlib.compress(raw, 9)
    # keyword \0 compression-flag compression-method language \0 translated-keyword \0 text
    body = keyword.encode("latin-1") + b"\0" + bytes([int(compressed), 0]) + b"\0\0" + raw
    return _chunk(b"iTXt", body)


def _text(keyword: str, text: str) -> bytes:
    try:
        return _chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + text.encode("latin-1"))
    except UnicodeEncodeError:  # tEXt is Latin-1 only
        return _itxt(keyword, text)


def iter_chunks(png: bytes):
    """(kind, body, start, end, crc_ok) for each chunk; stops quietly at damage (we only read metadata)."""
    if not png.startswith(SIGNATURE):
        return
    i, n = len(SIGNATURE), len(png)
    while i + 12 <= n:
        (length,) = struct.unpack(">I", png[i:i + 4])
        kind = png[i + 4:i + 8]
        end = i + 12 + length
        if end > n:
            return
        body = png[i + 8:i + 8 + length]
        crc_ok = struct.unpack(">I", png[end - 4:end])[0] == zlib.crc32(kind + body)
        yield kind, body, i, end, crc_ok
        if kind == b"IEND":
            return
        i = end


def _text_of(kind: bytes, body: bytes) -> tuple[str, str] | None:
    """(keyword, text) of a tEXt / zTXt / iTXt chunk body, or None if it is malformed."""
    try:
        keyword, _, rest = body.partition(b"\0")
        if kind == b"tEXt":
            return keyword.decode("latin-1"), rest.decode("latin-1")
        if kind == b"zTXt":
            return keyword.decode("latin-1"), _inflate(rest[1:]).decode("latin-1")
        if kind == b"iTXt":
            flag, _method = rest[0], rest[1]
            _lang, _, rest = rest[2:].partition(b"\0")
            _tkey, _, text = rest.partition(b"\0")
            return keyword.decode("latin-1"), (_inflate(text) if flag else text).decode("utf-8")
    except (ValueError, IndexError, zlib.error, UnicodeDecodeError):
        return None
    return None


def _inflate(data: bytes) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(data, _MAX_TEXT)
    if d.unconsumed_tail:
        raise ValueError("text chunk inflates too far")
    return out


def _version() -> str:
    import sys  # the package may be half-imported when we run; never import it from here

    return str(getattr(sys.modules.get(__package__ or "imagesynth"), "__version__", ""))


# --- API ----------------------------------------------------------------------------------
def write_params(png: bytes, params: dict) -> bytes:
    """``png`` with our chunks (replacing any earlier ones) right after IHDR, where readers
    that stop at the pixel data still find them."""
    png = bytes(png)
    if not png.startswith(SIGNATURE):
        raise ValueError("write_params needs PNG bytes")
    clean = scrub(dict(params))
    extra = _itxt(KEYWORD, json.dumps(clean, ensure_ascii=False, sort_keys=True))
    extra += _text("Software", f"imagesynth {_version()}".strip())
    prompt = clean.get("prompt")
    if isinstance(prompt, str) and prompt:
        extra += _itxt("Description", prompt)
    out = [SIGNATURE]
    for kind, body, start, end, _ok in iter_chunks(png):
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            kt = _text_of(kind, body)
            if kt is not None and kt[0] in _OUR_KEYWORDS:
                continue
        out.append(png[start:end])
        if kind == b"IHDR":
            out.append(extra)
    result = b"".join(out)
    if not result.endswith(_chunk(b"IEND", b"")):
        raise ValueError("write_params needs a complete PNG (no IEND chunk found)")
    return result


def read_params(png: bytes) -> dict | None:
    """The parameters we wrote, or None (not a PNG, none written, or damaged)."""
    for kind, body, _s, _e, ok in iter_chunks(bytes(png)):
        if not ok or kind not in (b"tEXt", b"zTXt", b"iTXt"):
            continue
        kt = _text_of(kind, body)
        if kt is not None and kt[0] == KEYWORD:
            try:
                value = json.loads(kt[1])
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def read_text(png: bytes) -> dict[str, str]:
    """Every textual chunk (keyword → text), for showing what other tools wrote."""
    out: dict[str, str] = {}
    for kind, body, _s, _e, ok in iter_chunks(bytes(png)):
        if ok and kind in (b"tEXt", b"zTXt", b"iTXt"):
            kt = _text_of(kind, body)
            if kt is not None:
                out.setdefault(*kt)
    return out
