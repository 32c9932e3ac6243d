"""Run the imagesynth server (app + sandbox) with uvicorn in a thread on a free loopback port.

Reusable by any test module (not a conftest, so import it explicitly)::

    from serverfixture import running_server

    with running_server(site_dir=tmp_path) as srv:
        srv.url        # "http://127.0.0.1:PORT"  (no trailing slash)
        srv.api_base   # "http://127.0.0.1:PORT/v1"
        srv.key        # the sandbox key ("sk-sandbox")
        srv.sandbox    # the Sandbox state: .faults.reset(), .store, .config

or as a pytest fixture: ``from serverfixture import sandbox_server`` (module scope).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import uvicorn

from imagesynth.server.app import create_app
from imagesynth.server.cli import listen


@dataclass
class RunningServer:
    url: str
    api_base: str
    key: str
    app: Any
    server: uvicorn.Server

    @property
    def sandbox(self):
        return self.app.state.sandbox


@contextmanager
def running_server(site_dir: Path | None = None, *, sandbox: bool = True, sandbox_key: str = "sk-sandbox",
                   host: str = "127.0.0.1", **create_kwargs: Any) -> Iterator[RunningServer]:
    """Start uvicorn on a free port, wait until it accepts connections, stop it afterwards."""
    create_kwargs.setdefault("stream_delay", 0.01)
    app = create_app(site_dir, sandbox=sandbox, sandbox_key=sandbox_key, **create_kwargs)
    sock = listen(host, 0)  # as `imagesynth serve` listens (TCP_NODELAY)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2,
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"imagesynth-server-{port}")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    url = f"http://{host}:{port}"
    try:
        yield RunningServer(url=url, api_base=url + "/v1", key=sandbox_key, app=app, server=server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[RunningServer]:
    """A server with the sandbox and no built site, shared by a test module."""
    with running_server() as srv:
        yield srv
