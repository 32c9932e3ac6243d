"""Helpers for the browser tests, importable by test modules (``from harness import
screenshot``); the fixtures built on them live in conftest.py."""

from __future__ import annotations

import functools
import http.server
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "playwright" / "screenshots"
FIXTURES = ROOT / "playwright" / "fixtures"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
LOCAL_SCHEMES = {"data", "blob", "about", "chrome-error"}

if str(ROOT / "py") not in sys.path:  # the package, also when not installed
    sys.path.insert(0, str(ROOT / "py"))


# ----------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and (parts.hostname or "") in LOCAL_HOSTS


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot of ``page`` as playwright/screenshots/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
        ".toml": "text/plain",
        ".whl": "application/zip",
        ".zip": "application/zip",
    }

    def end_headers(self):
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, *args):
        pass


@dataclass
class Server:
    url: str
    site: Path
    sandbox: bool
    kind: str  # "imagesynth" or "static"
    _stop: object = field(default=None, repr=False)

    def stop(self) -> None:
        if self._stop:
            self._stop()


def start_static_server(site: Path) -> Server:
    """A plain static file server over ``site`` on a free loopback port."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def stop():
        httpd.shutdown()
        httpd.server_close()

    return Server(f"http://127.0.0.1:{httpd.server_address[1]}", site, False, "static", stop)


def start_imagesynth_server(site: Path, *, sandbox_key: str = "sk-sandbox", **create_kwargs) -> Server | None:
    """``imagesynth serve``'s ASGI app with the sandbox, or None if not there yet.
    ``create_kwargs`` go to ``create_app`` (e.g. ``stream_delay``)."""
    try:
        from imagesynth.server import create_app  # noqa: PLC0415
        import uvicorn  # noqa: PLC0415
    except ImportError:
        return None
    app = create_app(site, sandbox=True, sandbox_key=sandbox_key, **create_kwargs)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="auto")
    userver = uvicorn.Server(config)
    thread = threading.Thread(target=userver.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not userver.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("imagesynth server did not start")
        time.sleep(0.05)

    def stop():
        userver.should_exit = True
        thread.join(10)

    return Server(f"http://127.0.0.1:{port}", site, True, "imagesynth", stop)


