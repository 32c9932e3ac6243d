"""Serving the built browser app: a folder of static files.

Written out rather than Starlette's ``StaticFiles`` because the app needs
things it does not do together: MIME types for ``.mjs``/``.wasm``/``.whl``/
``.toml`` whatever the host's mime database says; long immutable caching for
what the build named by its version (``build/versions.py``: the runtime's folder
``pyscript.<version>/``, the app's start-up files), but revalidation (ETag,
Last-Modified, 304) for the rest (``index.html`` names the versions); gzip of
text and wasm, compressed once and kept (the big files as the server starts,
and never on the event loop: compressing the 10 MB wasm takes ~0.35 s, during
which every other request, the sandbox API's too, used to wait); the CSP
header on every page.  No directory listing, no dotfiles, no way out of the
folder (``..``, encoded slashes, symlinks pointing outside).
"""

from __future__ import annotations

import gzip
import os
import threading
from collections import OrderedDict
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from ..build.versions import VERSIONED_NAME, VERSIONED_RUNTIME
from .csp import content_security_policy

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".tar": "application/x-tar",
    ".toml": "application/toml",
    ".py": "text/x-python; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".webmanifest": "application/manifest+json",
}
COMPRESSIBLE = {".html", ".htm", ".js", ".mjs", ".css", ".json", ".map", ".wasm", ".toml", ".py", ".txt", ".md",
                ".svg", ".webmanifest"}
LONG_CACHE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
GZIP_MIN = 1024
GZIP_AHEAD_MIN = 64 * 1024  # compressed when the server starts: the runtime's wasm and JS


def _cached_long(rel: str) -> bool:
    """The runtime in its versioned folder, and the app's files named by the build's version. A
    plain ``pyscript/`` (a site with no page of its own) may change under the same names."""
    return bool(VERSIONED_RUNTIME.match(rel.partition("/")[0]) or VERSIONED_NAME.match(rel.rpartition("/")[2]))


NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>imagesynth: app not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>imagesynth</h1>
<p>The app is not built: run <code>imagesynth build site</code>, then start
<code>imagesynth serve</code> again (or pass <code>--site DIR</code>).</p>
<p>The sandbox images endpoint is at <code>/v1/</code> unless the server runs with <code>--no-sandbox</code>.</p>
</body></html>
"""


def media_type(path: Path) -> str:
    return MIME_TYPES.get(path.suffix.lower(), "application/octet-stream")


class _GzipCache:
    """gzip bodies kept in memory by (path, mtime, size), so a 10 MB wasm is compressed once."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024):
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()
        self._busy: dict[tuple, threading.Lock] = {}

    def get(self, path: Path, st: os.stat_result) -> bytes:
        key = (str(path), st.st_mtime_ns, st.st_size)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            busy = self._busy.setdefault(key, threading.Lock())
        with busy:  # one thread compresses a file; another asking for it meanwhile waits for that
            with self._lock:
                if key in self._items:
                    return self._items[key]
            try:
                data = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
            except BaseException:
                with self._lock:
                    self._busy.pop(key, None)
                raise
            with self._lock:
                self._busy.pop(key, None)
                if key not in self._items:
                    self._items[key] = data
                    self._total += len(data)
                while self._total > self.max_bytes and len(self._items) > 1:
                    _, old = self._items.popitem(last=False)
                    self._total -= len(old)
        return data


# One for the process: servers started again on the same site (tests, the bench) reuse it.
_SHARED_GZIP = _GzipCache()


def _etag(st: os.stat_result, suffix: str = "") -> str:
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}{suffix}"'


def _not_modified(request: Request, etag: str, st: os.stat_result) -> bool:
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag in tags
    ims = request.headers.get("if-modified-since")
    if ims:
        try:
            return int(st.st_mtime) <= parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError):
            return False
    return False


class StaticSite:
    """ASGI app serving ``root`` (or, if it is missing, a page saying how to build it)."""

    def __init__(self, root: Path | None, csp: str | None = None):
        self.root = root.resolve() if root is not None and root.is_dir() else None
        self.csp = csp or content_security_policy()
        self.gzip = _SHARED_GZIP
        self.gzipped_ahead = threading.Event()
        if self.root is not None:
            threading.Thread(target=self._gzip_ahead, name="imagesynth-gzip", daemon=True).start()
        else:
            self.gzipped_ahead.set()

    def _gzip_ahead(self) -> None:
        """Compress the big compressible files now, so the first visitor's load does not wait
        for them (a background thread; a request for the file being compressed waits for it
        rather than compressing it again)."""
        try:
            for top, dirs, names in os.walk(self.root):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    path = Path(top) / name
                    if name.startswith(".") or path.suffix.lower() not in COMPRESSIBLE or path.is_symlink():
                        continue
                    try:
                        st = path.stat()
                        if st.st_size >= GZIP_AHEAD_MIN:
                            self.gzip.get(path, st)
                    except OSError:
                        continue  # gone or unreadable: served (or not) as it is when asked for
        finally:
            self.gzipped_ahead.set()

    def _headers(self, rel: str) -> dict[str, str]:
        return {
            "content-security-policy": self.csp,
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "cache-control": LONG_CACHE if _cached_long(rel) else REVALIDATE,
        }

    def resolve(self, url_path: str) -> Path | None:
        """The file for a URL path, or None: never outside the root, never a dotfile."""
        if self.root is None or "\x00" in url_path or "\\" in url_path:
            return None
        parts = [p for p in url_path.split("/") if p]
        if any(p in (".", "..") or (p.startswith(".") and p != ".well-known") for p in parts):
            return None
        candidate = self.root.joinpath(*parts)
        try:
            real = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if real != self.root and self.root not in real.parents:
            return None
        if real.is_dir():
            index = real / "index.html"
            return index if index.is_file() else None
        return real if real.is_file() else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        # in a worker thread: stat, read and (the first time) gzip a file without holding up
        # the event loop, which also answers the sandbox API
        response = await run_in_threadpool(self.respond, request)
        await response(scope, receive, send)

    def respond(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse("Method Not Allowed", status_code=405, headers={"allow": "GET, HEAD"})
        path = request.url.path
        if self.root is None:
            if path in ("/", "/index.html"):
                return HTMLResponse(NOT_BUILT_PAGE, headers={**self._headers(""), "cache-control": "no-store"})
            return PlainTextResponse("Not Found (the app is not built: run `imagesynth build site`)", status_code=404)
        file = self.resolve(path)
        if file is None:
            return PlainTextResponse("Not Found", status_code=404)
        rel = file.relative_to(self.root).as_posix()
        if file.name == "index.html" and not path.endswith(("/", "index.html")):
            # /dir → /dir/ so the page's relative URLs resolve inside it
            return RedirectResponse(path + "/", status_code=301)
        st = file.stat()
        headers = self._headers(rel)
        headers["last-modified"] = formatdate(st.st_mtime, usegmt=True)
        headers["vary"] = "accept-encoding"
        ctype = media_type(file)
        use_gzip = (file.suffix.lower() in COMPRESSIBLE and st.st_size >= GZIP_MIN
                    and "gzip" in request.headers.get("accept-encoding", "").lower()
                    and "range" not in request.headers)
        etag = _etag(st, "-gz" if use_gzip else "")
        headers["etag"] = etag
        if _not_modified(request, etag, st):
            return Response(status_code=304, headers={k: v for k, v in headers.items()
                                                      if k in ("etag", "cache-control", "last-modified", "vary",
                                                               "content-security-policy")})
        if use_gzip:
            body = self.gzip.get(file, st)
            headers["content-encoding"] = "gzip"
            if request.method == "HEAD":
                return Response(status_code=200, media_type=ctype,
                                headers={**headers, "content-length": str(len(body))})
            return Response(body, media_type=ctype, headers=headers)
        return FileResponse(file, media_type=ctype, headers=headers, stat_result=st)
