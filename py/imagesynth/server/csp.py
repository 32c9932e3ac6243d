"""The app's Content-Security-Policy, in one place.

The server sends it as a header; ``index.html`` carries the same string in a
``<meta http-equiv>`` tag for static hosts that set no headers
(``tests/test_csp_page.py`` holds the two equal).  Why each part:

- ``script-src 'self' 'sha256-…' 'wasm-unsafe-eval' 'unsafe-eval'``: Pyodide
  compiles WebAssembly (``wasm-unsafe-eval``) and its JS glue and PyScript's
  ``js`` bridge evaluate strings (``unsafe-eval``).  No inline script but the
  one ``index.html`` carries in ``<head>``, named by its hash
  (``FIRST_VISIT_SCRIPT``): a prompt that smuggled in a ``<script>`` or a
  ``<script type="py">`` must not run.
- ``connect-src 'self' https: http://localhost:* http://127.0.0.1:*``: the
  sandbox lives on the app's own origin; real endpoints the user configures are
  ``https:``; a compatible server on this machine usually speaks plain http on
  some port (browsers count loopback as a secure context, and nothing leaves
  the machine).  Not general ``http:``: a key must not go over the network in
  clear text.  Other origins are passed in.
- ``worker-src 'self' blob:``: PyScript starts its worker from a Blob URL.
- ``img-src data: blob:``: results are shown from data/blob URLs.
- ``form-action 'none'``: the page submits no form (the app reads its fields), so
  nothing injected can post the key field anywhere.
"""

from __future__ import annotations

from typing import Iterable


#: the hash of index.html's one inline script, which marks a first visit on <html> before the first
#: frame; inline rather than a file because a parser-blocking file in <head> held up the stylesheet and
#: the runtime's start by a round trip (index.html says why). tests/test_csp_page.py checks that the
#: page's script has this hash and that its <meta> policy names it: change them together.
FIRST_VISIT_SCRIPT = "'sha256-7eavTSAKSUg28vdmUNKIW+bolZAdAuRe+xyNs+1uPoU='"

#: local compatible servers over plain http, any port (IPv6 loopback cannot be named with a port wildcard
#: in every browser's CSP parser the same way, so it is left to ``extra_connect``)
LOCAL_HTTP = ("http://localhost:*", "http://127.0.0.1:*")


def content_security_policy(extra_connect: Iterable[str] = ()) -> str:
    """The CSP string; ``extra_connect`` adds origins to ``connect-src``."""
    connect = " ".join(["'self'", "https:", *LOCAL_HTTP, *extra_connect])
    return (
        "default-src 'self'; "
        f"script-src 'self' {FIRST_VISIT_SCRIPT} 'wasm-unsafe-eval' 'unsafe-eval'; "
        f"connect-src {connect}; "
        "img-src 'self' data: blob:; "
        "style-src 'self' 'unsafe-inline'; "
        "worker-src 'self' blob:; "
        "object-src 'none'; "
        "base-uri 'none'; "
        "form-action 'none'"
    )
