"""The app's Content-Security-Policy, in one place.

The server sends it as a header; the app build can put the same string in a
``<meta http-equiv>`` tag for static hosts that set no headers.  Why each part:

- ``script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'``: Pyodide compiles
  WebAssembly (``wasm-unsafe-eval``) and its JS glue and PyScript's ``js``
  bridge evaluate strings (``unsafe-eval``).  No inline scripts: a prompt that
  smuggled in a ``<script type="py">`` must not run.
- ``connect-src 'self' https:``: the sandbox lives on the app's own origin;
  real endpoints the user configures are ``https:``.  Extra origins (a local
  compatible server on http) are passed in.
- ``worker-src 'self' blob:``: PyScript starts its worker from a Blob URL.
- ``img-src data: blob:``: results are shown from data/blob URLs.
"""

from __future__ import annotations

from typing import Iterable


def content_security_policy(extra_connect: Iterable[str] = ()) -> str:
    """The CSP string; ``extra_connect`` adds origins to ``connect-src``."""
    connect = " ".join(["'self'", "https:", *extra_connect])
    return (
        "default-src 'self'; "
        "script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'; "
        f"connect-src {connect}; "
        "img-src 'self' data: blob:; "
        "style-src 'self' 'unsafe-inline'; "
        "worker-src 'self' blob:; "
        "object-src 'none'; "
        "base-uri 'none'"
    )
