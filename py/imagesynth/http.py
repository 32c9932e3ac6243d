"""HTTP as plain data: what the protocol layer builds and what transports send.

The core never opens a socket (the h11 idea).  ``protocol`` turns a task into
an ``HttpRequest``; a transport (CPython, browser fetch, or a test feeding
canned bytes) turns that into an ``HttpResponse``; ``protocol`` reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import AsyncIterator, Protocol

from .reprs import brief_repr


@dataclass
class HttpRequest:
    """A request as the core builds it, for whichever transport sends it (the core does no I/O)."""
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: True when the response is a server-sent event stream to be read as it arrives
    stream: bool = False
    timeout: float = 600.0

    def __repr__(self) -> str:  # never show credentials
        return f"HttpRequest({self.method} {self.url}, {len(self.body)} bytes)"


@brief_repr
@dataclass
class HttpResponse:
    """What a transport got back: the whole body, or for a stream its chunks as they arrive."""
    status: int
    headers: dict[str, str]  # lower-case names
    #: the whole body for non-streaming requests
    body: bytes = b""
    #: for streaming requests: the body as it arrives
    chunks: AsyncIterator[bytes] | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Transport(Protocol):
    """Sends one request.  Raises ``ConnectionFailed``, ``TimeoutError_`` or ``Cancelled``."""

    async def send(self, request: HttpRequest) -> HttpResponse: ...
