"""Transports: one HTTP request out, one ``HttpResponse`` back (layer 2 of DESIGN.md).

Each implementation lives in its own module and imports its HTTP library
there, so importing this package costs nothing and works on Pyodide:
``cpython.RequestsTransport`` (CPython, on ``requests``) and
``browser`` (Pyodide, on ``fetch``; written by the app).
"""

from __future__ import annotations

from ..http import HttpRequest, HttpResponse, Transport  # noqa: F401


def default_transport() -> Transport:
    """The transport for this interpreter: fetch in the browser, requests elsewhere."""
    import sys

    if sys.platform == "emscripten":
        from .browser import BrowserTransport  # type: ignore[import-not-found]

        return BrowserTransport()
    from .cpython import RequestsTransport

    return RequestsTransport()
