"""The CPython transport, on ``requests``.

``requests`` because pyodide-http patches it: the in-page Python console can
later reuse this module unchanged.  ``requests`` blocks, so every call runs in
a daemon thread and the event loop stays free to run the other n-1 requests
and the progress bar.  A streamed body is read in a thread and handed to an
async iterator chunk by chunk as it arrives, so partial images reach the
progress callback while the model is still working.

Cancelling the awaiting task returns at once; the abandoned thread finishes or
times out on its own (a daemon: it never holds up the exit), and its response
is closed.  Errors never carry the key:
they name the host only.
"""

from __future__ import annotations

import asyncio
import threading
from typing import AsyncIterator
from urllib.parse import urlsplit

import requests

from ..errors import ConnectionFailed, TimeoutError_
from ..http import HttpRequest, HttpResponse

CONNECT_TIMEOUT = 30.0


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.hostname or url.split("?")[0]


def _translate(exc: requests.RequestException, url: str) -> Exception:
    host = _host(url)
    if isinstance(exc, requests.Timeout):
        return TimeoutError_(f"{host} did not answer in time; try again, or raise the time-out")
    if isinstance(exc, requests.exceptions.SSLError):
        return ConnectionFailed(f"the TLS connection to {host} failed (certificate or proxy problem)")
    if isinstance(exc, requests.exceptions.InvalidURL) or isinstance(exc, requests.exceptions.MissingSchema) \
            or isinstance(exc, requests.exceptions.InvalidSchema):
        return ConnectionFailed(f"the endpoint URL is not valid (host {host!r}); check the base URL")
    return ConnectionFailed(f"could not reach {host}: host unreachable or connection dropped; "
                            "check the base URL and the network")


def _in_daemon_thread(fn, *args) -> "asyncio.Future":
    """Run blocking ``fn`` in a daemon thread; the returned future can be cancelled at once.

    Not ``asyncio.to_thread``: its pool is joined when ``asyncio.run`` ends, so after Ctrl-C the
    command would hang until every pending request had timed out.  A daemon thread is
    abandoned instead, and a response that arrives after cancellation is closed."""
    loop = asyncio.get_running_loop()
    fut = loop.create_future()

    def deliver(result, exc) -> None:
        if fut.done():  # cancelled meanwhile: free the connection
            if isinstance(result, requests.Response):
                result.close()
            return
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)

    def target() -> None:
        try:
            result, exc = fn(*args), None
        except BaseException as e:  # delivered to the awaiting task
            result, exc = None, e
        try:
            loop.call_soon_threadsafe(deliver, result, exc)
        except RuntimeError:  # the loop is gone
            if isinstance(result, requests.Response):
                result.close()

    threading.Thread(target=target, name="imagesynth-http", daemon=True).start()
    return fut


class RequestsTransport:
    """``Transport`` on a ``requests.Session`` (connection reuse across the n requests)."""

    def __init__(self, session: requests.Session | None = None, *, verify: bool | str = True):
        self.session = session or requests.Session()
        self.verify = verify

    def _send_blocking(self, request: HttpRequest) -> requests.Response:
        timeout = (min(CONNECT_TIMEOUT, request.timeout), request.timeout)
        try:
            return self.session.request(request.method, request.url, headers=request.headers,
                                        data=request.body or None, timeout=timeout, stream=True,
                                        verify=self.verify, allow_redirects=True)
        except requests.RequestException as e:
            raise _translate(e, request.url) from None

    def _read_blocking(self, resp: requests.Response, url: str) -> bytes:
        try:
            return resp.content
        except requests.RequestException as e:
            raise _translate(e, url) from None
        except Exception as e:  # urllib3 errors while reading the body
            raise ConnectionFailed(f"the connection to {_host(url)} dropped while reading the answer "
                                   f"({type(e).__name__}); check the network") from None
        finally:
            resp.close()

    async def send(self, request: HttpRequest) -> HttpResponse:
        resp = await _in_daemon_thread(self._send_blocking, request)
        headers = {k.lower(): v for k, v in resp.headers.items()}
        # Error answers are small and read whole, so the caller can parse them in one piece.
        if not request.stream or resp.status_code >= 400:
            try:
                body = await _in_daemon_thread(self._read_blocking, resp, request.url)
            except asyncio.CancelledError:
                resp.close()
                raise
            return HttpResponse(status=resp.status_code, headers=headers, body=body)
        return HttpResponse(status=resp.status_code, headers=headers,
                            chunks=self._chunks(resp, request.url))

    async def _chunks(self, resp: requests.Response, url: str) -> AsyncIterator[bytes]:
        """One reader thread pushes chunks into a queue as they arrive; closing or cancelling
        the iterator closes the response, which ends the thread."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        end = object()
        stopped = threading.Event()

        def put(item) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # loop closed
                stopped.set()

        def reader() -> None:
            try:
                # chunk_size=None: whatever has arrived, so each server-sent event comes through
                # as soon as it is sent instead of waiting for a buffer to fill
                for chunk in resp.iter_content(chunk_size=None):
                    if stopped.is_set():
                        return
                    if chunk:
                        put(chunk)
                put(end)
            except requests.RequestException as e:
                if not stopped.is_set():
                    put(_translate(e, url))
            except Exception as e:  # urllib3 ProtocolError etc. while streaming
                if not stopped.is_set():
                    put(ConnectionFailed(f"the connection to {_host(url)} dropped while the image was "
                                         f"streaming ({type(e).__name__}); check the network"))
            finally:
                resp.close()

        threading.Thread(target=reader, name="imagesynth-stream", daemon=True).start()
        try:
            while True:
                item = await queue.get()
                if item is end:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stopped.set()
            resp.close()
