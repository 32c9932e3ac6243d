"""The browser transport: ``fetch`` through ``pyodide.http.pyfetch``.

Async and abortable: cancelling the asyncio task that awaits ``send`` (or
reads a streamed body) aborts the fetch with its ``AbortController``, so the
request really stops.  Streamed bodies (server-sent events) are read chunk by
chunk from ``response.body.getReader()`` as they arrive.

Network failures, CORS refusals and aborted requests become the core's typed
errors.  No message ever contains the key or the request headers.

Importable on CPython (nothing browser-side is imported at module level).
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

from ..errors import Cancelled, ConnectionFailed, TimeoutError_
from ..http import HttpRequest, HttpResponse


def _where(url: str) -> str:
    from urllib.parse import urlsplit  # here, not at the top: urllib.parse imports ipaddress, ~40 ms of the page's start

    parts = urlsplit(url)
    return parts.netloc or url


def _connection_failed(url: str) -> ConnectionFailed:
    host = _where(url)
    return ConnectionFailed(
        f"Could not reach {host}. The endpoint may not allow requests from a web page "
        "(CORS), or it is unreachable: check the address and your network connection. "
        "Endpoints without CORS can be used from the imagesynth command instead."
    )


def _timed_out(url: str, seconds: float) -> TimeoutError_:
    return TimeoutError_(f"{_where(url)} did not answer within {seconds:g} seconds.")


async def _abortable(awaitable, controller, url: str, timeout: float, failed):
    """Await a fetch step with a time limit.  Cancelling the asyncio task or running out of time
    aborts the fetch (so the request really stops); a JS failure is ``Cancelled`` when we aborted
    it, else ``failed()``, the step's own plain-language error."""
    from pyodide.ffi import JsException
    from pyodide.http import AbortError

    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.CancelledError:
        controller.abort()
        raise
    except (asyncio.TimeoutError, TimeoutError):
        controller.abort()
        raise _timed_out(url, timeout) from None
    except (AbortError, JsException, OSError):
        if controller.signal.aborted:
            raise Cancelled("The request was cancelled.") from None
        raise failed() from None


class BrowserTransport:
    """``Transport`` for Pyodide's main thread or a worker."""

    def __init__(self, *, connect_timeout: float | None = None):
        #: time allowed until the response headers arrive (defaults to the request's timeout)
        self.connect_timeout = connect_timeout

    async def send(self, request: HttpRequest) -> HttpResponse:
        import js
        from pyodide.http import pyfetch

        controller = js.AbortController.new()
        headers = js.Headers.new()
        for name, value in request.headers.items():
            headers.append(name, value)
        kwargs = {"method": request.method.upper(), "headers": headers, "signal": controller.signal,
                  "cache": "no-store", "credentials": "omit", "referrerPolicy": "no-referrer"}
        if request.body:
            body = js.Uint8Array.new(len(request.body))
            body.assign(request.body)
            kwargs["body"] = body

        timeout = self.connect_timeout or request.timeout
        resp = await _abortable(pyfetch(request.url, **kwargs), controller, request.url, timeout,
                                lambda: _connection_failed(request.url))

        js_resp = resp.js_response
        headers_out: dict[str, str] = {}
        try:
            for name, value in js.Object.fromEntries(js_resp.headers.entries()).to_py().items():
                headers_out[str(name).lower()] = str(value)
        except Exception:  # some proxies expose no iterable headers
            pass

        status = int(js_resp.status)
        if request.stream and 200 <= status < 300 and js_resp.body:
            return HttpResponse(status=status, headers=headers_out,
                                chunks=self._chunks(js_resp, controller, request))
        buf = await _abortable(js_resp.arrayBuffer(), controller, request.url, request.timeout,
                               lambda: _connection_failed(request.url))
        body = buf.to_bytes()
        return HttpResponse(status=status, headers=headers_out, body=body)

    async def _chunks(self, js_resp, controller, request: HttpRequest) -> AsyncIterator[bytes]:
        reader = js_resp.body.getReader()
        broke = lambda: ConnectionFailed(  # noqa: E731
            f"The connection to {_where(request.url)} broke while the image was arriving. Try again.")
        try:
            while True:
                part = await _abortable(reader.read(), controller, request.url, request.timeout, broke)
                if part.done:
                    return
                value = part.value
                if value is not None:
                    yield value.to_bytes()
        finally:
            # Whatever ends the iteration early (cancel, error, consumer stops): stop the fetch.
            if not controller.signal.aborted:
                try:
                    controller.abort()
                except Exception:
                    pass
            try:
                reader.releaseLock()
            except Exception:
                pass
