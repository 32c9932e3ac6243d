"""A fake transport answering canned responses, built by hand from the contract's shapes.

Every request is recorded (with its parsed JSON or multipart field names), so
tests can check what was sent; ``in_flight``/``max_in_flight`` show whether
requests really ran at once.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
from typing import Any, Callable

from imagesynth.http import HttpRequest, HttpResponse


def png(size=(64, 64), color=(200, 30, 30, 255), mode="RGBA") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, color[: len(mode)]).save(buf, "PNG")
    return buf.getvalue()


def b64png(size=(1024, 1024), color=(10, 120, 200, 255)) -> str:
    return base64.b64encode(png(size, color)).decode()


def images_json(k: int, size=(1024, 1024), *, revised: str | None = None, url: str | None = None) -> HttpResponse:
    data = []
    for i in range(k):
        item: dict[str, Any] = {"url": url} if url else {"b64_json": b64png(size, (i * 20 % 255, 100, 50, 255))}
        if revised:
            item["revised_prompt"] = revised
        data.append(item)
    body = json.dumps({"created": 1713833628, "data": data}).encode()
    return HttpResponse(200, {"content-type": "application/json", "x-request-id": "req_123"}, body)


def error_json(status: int, message: str, code: str | None = None, type_: str = "invalid_request_error",
               headers: dict | None = None) -> HttpResponse:
    body = json.dumps({"error": {"message": message, "type": type_, "param": None, "code": code}}).encode()
    return HttpResponse(status, {"content-type": "application/json", "x-request-id": "req_err", **(headers or {})},
                        body)


def sse_response(partials: int, size=(1024, 1024), *, split: int = 777, kind="image_generation",
                 delay: float = 0.0, complete: bool = True) -> HttpResponse:
    """An event stream as the contract describes it, cut into ``split``-byte chunks."""
    events = []
    for k in range(partials):
        events.append({"type": f"{kind}.partial_image", "b64_json": b64png(size, (k * 60, 0, 0, 255)),
                       "created_at": 1, "size": "1024x1024", "quality": "low", "background": "opaque",
                       "output_format": "png", "partial_image_index": k})
    if complete:
        events.append({"type": f"{kind}.completed", "b64_json": b64png(size, (0, 200, 0, 255)), "created_at": 2,
                       "size": "1024x1024", "quality": "low", "background": "opaque", "output_format": "png",
                       "usage": {"total_tokens": 10, "input_tokens": 5, "output_tokens": 5,
                                 "input_tokens_details": {"text_tokens": 5, "image_tokens": 0}}})
    raw = b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)

    async def chunks():
        for i in range(0, len(raw), split):
            if delay:
                await asyncio.sleep(delay)
            yield raw[i: i + split]

    return HttpResponse(200, {"content-type": "text/event-stream", "x-request-id": "req_stream"},
                        chunks=chunks())


class FakeTransport:
    """``answer(request, call_number)`` → HttpResponse (or raises); ``delay`` seconds per request."""

    def __init__(self, answer: Callable[[HttpRequest, int], HttpResponse] | list, delay: float = 0.0):
        self._answer = answer
        self.delay = delay
        self.requests: list[HttpRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.cancelled = 0

    async def send(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        number = len(self.requests) - 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if isinstance(self._answer, list):
                item = self._answer[number] if number < len(self._answer) else self._answer[-1]
                item = item(request, number) if callable(item) else item
            else:
                item = self._answer(request, number)
            if isinstance(item, BaseException):
                raise item
            return item
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1

    # --- what was sent -------------------------------------------------------------------------
    def json_bodies(self) -> list[dict]:
        return [json.loads(r.body) for r in self.requests if r.headers.get("Content-Type") == "application/json"]

    def multipart_fields(self, i: int) -> dict[str, bytes]:
        """name → value of the i-th request's multipart body (enough for assertions)."""
        r = self.requests[i]
        boundary = re.search(r"boundary=(.+)", r.headers["Content-Type"]).group(1).strip('"').encode()
        out = {}
        for part in r.body.split(b"--" + boundary):
            m = re.search(rb'name="([^"]+)"', part)
            if m:
                out[m.group(1).decode()] = part.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n", 1)[0]
        return out
