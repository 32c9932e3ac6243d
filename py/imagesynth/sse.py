"""Server-sent events for streamed images, fed bytes as they arrive.

Chunks from a socket or ``fetch`` split anywhere: inside a line, inside a CRLF
pair, inside a UTF-8 sequence.  So the parser keeps whole lines only, decodes a
line once it is complete, and holds a trailing CR back until the next byte
says whether it was CRLF.  Follows the WHATWG event-stream rules (comments,
``data`` joined by newlines, one optional space after the colon).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .apierrors import error_from_fields, error_object
from .errors import ResponseError


@dataclass
class StreamEvent:
    """One image event of a streamed response: a partial preview or the finished image."""
    kind: str  # "partial" | "completed"
    b64: str
    partial_index: int | None = None
    usage: dict | None = None
    output_format: str | None = None
    revised_prompt: str | None = None
    size: str | None = None
    #: the event's ``type`` as sent, e.g. "image_edit.partial_image"
    type: str = ""


_EOL = re.compile(rb"\r\n|\r|\n")
_PARTIAL = ("image_generation.partial_image", "image_edit.partial_image")
_COMPLETED = ("image_generation.completed", "image_edit.completed")


class EventStreamParser:
    """Incremental server-sent-events parser: ``feed(bytes)`` → list of StreamEvent.
    Raises the typed error for an ``error`` event."""

    def __init__(self, *, model: str | None = None, request_id: str | None = None):
        self._buf = bytearray()
        self._scanned = 0
        self._data: list[str] = []
        self._event = ""
        self._model = model
        self._request_id = request_id
        self.completed = 0
        self.partials = 0
        self.closed = False

    def feed(self, data: bytes) -> list[StreamEvent]:
        if self.closed:
            raise ValueError("feed() after close()")
        self._buf += data  # bytearray: amortised append
        out: list[StreamEvent] = []
        for line in self._lines(final=False):
            out += self._line(line)
        return out

    def close(self) -> list[StreamEvent]:
        """End of stream: a last event without its blank line is still delivered (servers forget it)."""
        out: list[StreamEvent] = []
        for line in self._lines(final=True):
            out += self._line(line)
        out += self._dispatch()
        self.closed = True
        return out

    def _lines(self, final: bool):
        # Scan only bytes not scanned before, and never copy the pending line:
        # a 2 MB base64 line arriving in 1 kB chunks must stay linear.
        buf = self._buf
        start = 0
        scanned = self._scanned
        while True:
            m = _EOL.search(buf, scanned)
            if m is None:
                scanned = len(buf)
                break
            i = m.start()
            if buf[i] == 0x0D and i + 1 == len(buf) and not final:
                scanned = i  # a CR at the end: wait for the next byte (CRLF split across chunks)
                break
            yield bytes(buf[start:i])
            start = scanned = m.end()
        if final and start < len(buf):
            yield bytes(buf[start:])
            start = scanned = len(buf)
        if start:
            del buf[:start]
        self._scanned = scanned - start

    def _line(self, raw: bytes) -> list[StreamEvent]:
        if not raw:
            return self._dispatch()
        line = raw.decode("utf-8", "replace")
        if line.startswith(":"):
            return []  # comment / keep-alive
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        # "id" and "retry" do not matter for a one-shot image stream
        return []

    def _dispatch(self) -> list[StreamEvent]:
        if not self._data:
            self._event = ""
            return []
        data = "\n".join(self._data)
        event = self._event
        self._data, self._event = [], ""
        if data.strip() == "[DONE]":
            return []
        try:
            payload = json.loads(data)
        except ValueError:
            raise ResponseError(f"The image stream sent an event that is not JSON: {data[:80]!r}.",
                                request_id=self._request_id) from None
        if not isinstance(payload, dict):
            raise ResponseError("The image stream sent an event that is not a JSON object.",
                                request_id=self._request_id)
        kind = payload.get("type") or event
        if kind == "error" or event == "error" or ("error" in payload and not payload.get("b64_json")):
            err = error_object(payload)
            status = payload.get("status") if isinstance(payload.get("status"), int) else None
            headers = {"x-request-id": self._request_id} if self._request_id else {}
            raise error_from_fields(status, err, headers, model=self._model)
        if kind in _PARTIAL or kind in _COMPLETED:
            b64 = payload.get("b64_json")
            if not isinstance(b64, str) or not b64:
                raise ResponseError(f"The image stream sent a {kind} event without an image.",
                                    request_id=self._request_id)
            partial = kind in _PARTIAL
            if partial:
                self.partials += 1
            else:
                self.completed += 1
            return [StreamEvent(
                kind="partial" if partial else "completed",
                b64=b64,
                partial_index=payload.get("partial_image_index") if partial else None,
                usage=payload.get("usage"),
                output_format=payload.get("output_format"),
                revised_prompt=payload.get("revised_prompt"),
                size=payload.get("size"),
                type=kind,
            )]
        return []  # unknown event types are for newer clients
