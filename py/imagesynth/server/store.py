"""Images handed out as URLs (``response_format=url``), kept in memory for 60 minutes.

Like OpenAI's result URLs they need no key to fetch (an ``<img>`` cannot send
one) and are unguessable instead: 32 random bytes per id.  Memory is bounded:
the oldest images go first when the total passes ``max_bytes``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

URL_PREFIX = "/v1/sandbox/images/"


@dataclass
class Stored:
    data: bytes
    media_type: str
    expires: float


class ImageStore:
    def __init__(self, ttl: float = 3600.0, max_bytes: int = 512 * 1024 * 1024, clock=time.monotonic):
        self.ttl = ttl
        self.max_bytes = max_bytes
        self._clock = clock
        self._items: OrderedDict[str, Stored] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def put(self, data: bytes, media_type: str, ext: str) -> str:
        """Keep ``data``; return its file name (``<id>.<ext>``)."""
        name = f"{secrets.token_urlsafe(32)}.{ext}"
        with self._lock:
            self._expire()
            self._items[name] = Stored(data, media_type, self._clock() + self.ttl)
            self._total += len(data)
            while self._total > self.max_bytes and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._total -= len(old.data)
        return name

    def get(self, name: str) -> Stored | None:
        with self._lock:
            item = self._items.get(name)
            if item is None:
                return None
            if item.expires <= self._clock():
                del self._items[name]
                self._total -= len(item.data)
                return None
            return item

    def _expire(self) -> None:
        now = self._clock()
        for name in [k for k, v in self._items.items() if v.expires <= now]:
            self._total -= len(self._items.pop(name).data)

    def resolve_url(self, url: str) -> bytes | None:
        """The bytes behind one of our own URLs (so an edit can take a result URL as input)."""
        i = url.find(URL_PREFIX)
        if i < 0:
            return None
        item = self.get(url[i + len(URL_PREFIX):].split("?")[0])
        return item.data if item else None
