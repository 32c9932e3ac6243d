"""History in IndexedDB (through static/idb.js).

``save`` resolves only once the browser has committed the record, so the
caller can keep the rule: persist, then display.  Records carry the image's
parameters, a small thumbnail (made at save time) and, in a store of their
own, the full image, read only when someone opens or downloads it: the
gallery of hundreds of images reads thumbnails only.  Never a key: the core
keeps credentials out of ``GeneratedImage.params``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from pyscript.js_modules import idb

import js
from pyodide.ffi import to_js

from .dom import js_object, nn, to_uint8


class StorageError(Exception):
    """The browser refused to store an image (quota, private mode, blocked)."""

    def __init__(self, message: str, quota: bool = False):
        super().__init__(message)
        self.quota = quota


QUOTA_MESSAGE = ("This browser's storage for the page is full, so the image could not be saved. "
                 "Download it now; delete older images or allow more storage to keep new ones.")
REFUSED_MESSAGE = ("The browser refused to save the image (private browsing or storage turned off?). "
                   "Download it now to keep it.")

#: full images read from the store in this page (the gallery must not need any)
stats = {"full_reads": 0}


@dataclass(eq=False)  # identity: two records are the same only if they are one object
class Record:
    """One image of the history as IndexedDB holds it; the full image is read only when opened."""
    id: int | None
    created: float  # ms since the epoch
    prompt: str
    mime: str
    width: int
    height: int
    params: dict[str, Any] = field(default_factory=dict)
    blob: Any = None  # JS Blob of the full image, once loaded (None: still in the store)
    saved: bool = True
    thumb: Any = None  # JS Blob, small
    favourite: bool = False
    sha256: str = ""
    run: int | None = None


def _plain_params(params: dict) -> dict:
    """JSON-safe copy (drops anything a JSON document cannot hold)."""
    return json.loads(json.dumps(params, default=str))


def _is_quota(exc: BaseException) -> bool:
    name = str(getattr(exc, "name", "") or "")
    return "Quota" in name or "quota" in str(exc).lower()


async def save(image, *, run: int | None = None, thumb: bool = True, on_blob=None) -> Record:
    """Write a GeneratedImage; raises StorageError with a plain message if the browser refuses.

    ``thumb=False``: commit the full image without a thumbnail (the caller makes one with
    ``add_thumb`` once the image is shown; a record left without one gets it on the next
    load, ``gallery.backfill_thumbs``).  ``on_blob(blob)`` is called with the record's Blob
    as soon as it exists, before the commit is awaited: work that may run meanwhile (the
    browser decoding the picture) need not wait for the disk."""
    return await save_bytes(image.data, image.mime, int(image.width), int(image.height),
                            dict(image.params or {}), run=run, thumb=thumb, on_blob=on_blob)


async def _sha256(u8, data: bytes) -> str:
    """Hex SHA-256 of the bytes: the browser's native digest of the one Uint8Array copy
    (hashlib in wasm is several times slower), hashlib where SubtleCrypto is missing."""
    try:
        subtle = js.crypto.subtle
        if subtle is not None and subtle is not js.undefined:
            buf = await subtle.digest("SHA-256", u8)
            return bytes(js.Uint8Array.new(buf).to_py()).hex()
    except Exception:
        pass
    import hashlib  # only here, the rare fallback: importing it costs ~4 ms of the page's start

    return hashlib.sha256(bytes(data)).hexdigest()


async def save_bytes(data: bytes, mime: str, width: int, height: int, params: dict, *,
                     created: float | None = None, favourite: bool = False, run: int | None = None,
                     sha256: str = "", thumb: bool = True, on_blob=None) -> Record:
    from . import thumbs

    params = _plain_params(params or {})
    u8 = to_uint8(data)  # the one copy of the bytes into JS: hashed and wrapped in the Blob
    blob = js.Blob.new(to_js([u8]), js_object({"type": mime}))
    if on_blob is not None:
        try:
            on_blob(blob)
        except Exception:  # a head start only: the save goes on without it
            pass
    rec = Record(id=None, created=created if created is not None else time.time() * 1000,
                 prompt=str(params.get("prompt") or ""), mime=mime, width=int(width), height=int(height),
                 params=params, blob=blob, favourite=bool(favourite), run=run,
                 sha256=sha256 or await _sha256(u8, data))
    if thumb:
        rec.thumb = await thumbs.make(blob)
    fields = {
        "created": rec.created,
        "prompt": rec.prompt,
        "mime": rec.mime,
        "width": rec.width,
        "height": rec.height,
        "params": json.dumps(params),
        "size": len(data),
        "sha256": rec.sha256,
        "favourite": rec.favourite,
    }
    if run is not None:
        fields["run"] = run
    js_rec = js_object(fields)
    if rec.thumb is not None:
        js_rec.thumb = rec.thumb
    try:
        rec.id = int(await idb.putImage(js_rec, blob))
    except Exception as exc:
        rec.saved = False
        if _is_quota(exc):
            raise StorageError(QUOTA_MESSAGE, quota=True) from None
        raise StorageError(REFUSED_MESSAGE) from None
    return rec


async def add_thumb(rec: Record) -> bool:
    """Make and store the thumbnail of a record saved without one (``save(thumb=False)``);
    False if the browser could not make or store it (the next load tries again)."""
    from . import thumbs

    if rec.thumb is not None or rec.blob is None or rec.id is None or not rec.saved:
        return False
    try:
        t = await thumbs.make(rec.blob)
        if t is None:
            return False
        await update(rec, thumb=t)
    except Exception:
        return False
    rec.thumb = t
    return True


def _from_js(obj) -> Record:
    try:
        params = json.loads(obj.params or "{}")
    except ValueError:
        params = {}
    run = nn(getattr(obj, "run", None))
    return Record(id=int(obj.id), created=float(obj.created or 0), prompt=str(obj.prompt or ""),
                  mime=str(obj.mime or "image/png"), width=int(obj.width or 0), height=int(obj.height or 0),
                  params=params, blob=None, thumb=nn(getattr(obj, "thumb", None)),
                  favourite=bool(nn(getattr(obj, "favourite", None)) or False),
                  sha256=str(nn(getattr(obj, "sha256", None)) or ""),
                  run=int(run) if run is not None else None)


async def load_all(limit: int = 0) -> list[Record]:
    """Every saved image's metadata and thumbnail, newest first (no full images)."""
    items = await idb.listImages(limit or 0)
    return [_from_js(items[i]) for i in range(items.length)]


async def full_blob(rec: Record):
    """The record's full image as a Blob, read from the store the first time it is needed."""
    if rec.blob is None and rec.id is not None:
        stats["full_reads"] += 1
        rec.blob = nn(await idb.getFull(rec.id))
    return rec.blob


async def full_bytes(rec: Record) -> bytes:
    blob = await full_blob(rec)
    if blob is None:
        raise LookupError("the image is no longer in this browser's store")
    buf = await blob.arrayBuffer()
    return bytes(buf.to_py() if hasattr(buf, "to_py") else buf)


async def update(rec: Record, **fields) -> None:
    if rec.id is None:
        return
    await idb.updateImage(rec.id, js_object(fields) if not any(k == "thumb" for k in fields) else _with_blob(fields))


def _with_blob(fields: dict):
    plain = {k: v for k, v in fields.items() if k != "thumb"}
    obj = js_object(plain)
    obj.thumb = fields["thumb"]
    return obj


async def delete(record_id: int) -> None:
    await idb.deleteImage(record_id)


async def delete_many(ids: list[int]) -> None:
    from pyodide.ffi import to_js

    await idb.deleteImages(to_js(list(ids)))


# ----------------------------------------------------------------------------- runs
async def start_run(fields: dict) -> int | None:
    """A pending-run record; None if the browser would not write it (the run goes on)."""
    try:
        return int(await idb.putRun(js_object(fields)))
    except Exception:
        return None


async def end_run(run_id: int | None) -> None:
    if run_id is None:
        return
    try:
        await idb.deleteRun(run_id)
    except Exception:
        pass


async def list_runs() -> list[dict]:
    try:
        items = await idb.listRuns()
    except Exception:
        return []
    out = []
    for i in range(items.length):
        o = items[i]
        out.append({"id": int(o.id), "started": float(o.started or 0), "page": str(nn(o.page) or ""),
                    "prompt": str(nn(o.prompt) or ""), "settings": str(nn(o.settings) or "{}"),
                    "n": int(nn(o.n) or 1), "state": str(nn(o.state) or "pending")})
    return out


async def update_run(run_id: int, fields: dict) -> None:
    try:
        rec = await idb.listRuns()
        for i in range(rec.length):
            o = rec[i]
            if int(o.id) == run_id:
                for k, v in fields.items():
                    setattr(o, k, v)
                await idb.putRun(o)
                return
    except Exception:
        pass
