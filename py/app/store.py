"""History in IndexedDB (through static/idb.js).

``save`` resolves only once the browser has committed the record, so the
caller can keep the rule: persist, then display.  Records carry the image as
a Blob plus its parameters (never a key: the core keeps credentials out of
``GeneratedImage.params``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from pyscript.js_modules import idb

from .dom import blob_from_bytes, js_object


class StorageError(Exception):
    """The browser refused to store an image (quota, private mode, blocked)."""


@dataclass
class Record:
    id: int | None
    created: float  # ms since the epoch
    prompt: str
    mime: str
    width: int
    height: int
    params: dict[str, Any] = field(default_factory=dict)
    blob: Any = None  # JS Blob
    saved: bool = True


def _plain_params(params: dict) -> dict:
    """JSON-safe copy (drops anything a JSON document cannot hold)."""
    return json.loads(json.dumps(params, default=str))


async def save(image) -> Record:
    """Write a GeneratedImage; raises StorageError with a plain message if the browser refuses."""
    params = _plain_params(image.params or {})
    blob = blob_from_bytes(image.data, image.mime)
    rec = Record(id=None, created=time.time() * 1000, prompt=str(params.get("prompt") or ""),
                 mime=image.mime, width=int(image.width), height=int(image.height), params=params, blob=blob)
    js_rec = js_object({
        "created": rec.created,
        "prompt": rec.prompt,
        "mime": rec.mime,
        "width": rec.width,
        "height": rec.height,
        "params": json.dumps(params),
        "size": len(image.data),
    })
    js_rec.blob = blob
    try:
        rec.id = int(await idb.putImage(js_rec))
    except Exception as exc:
        rec.saved = False
        name = str(getattr(exc, "name", "") or "")
        text = str(exc)
        if "Quota" in name or "quota" in text.lower():
            raise StorageError(
                "This browser's storage for the page is full, so the image could not be saved. "
                "Download it now; delete older images or allow more storage to keep new ones."
            ) from None
        raise StorageError(
            "The browser refused to save the image (private browsing or storage turned off?). "
            "Download it now to keep it."
        ) from None
    return rec


def _from_js(obj) -> Record:
    try:
        params = json.loads(obj.params or "{}")
    except ValueError:
        params = {}
    return Record(id=int(obj.id), created=float(obj.created or 0), prompt=str(obj.prompt or ""),
                  mime=str(obj.mime or "image/png"), width=int(obj.width or 0), height=int(obj.height or 0),
                  params=params, blob=obj.blob)


async def load_all(limit: int = 0) -> list[Record]:
    """Every saved image, newest first."""
    items = await idb.listImages(limit or 0)
    return [_from_js(items[i]) for i in range(items.length)]


async def delete(record_id: int) -> None:
    await idb.deleteImage(record_id)
