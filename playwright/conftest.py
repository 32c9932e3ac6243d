"""Shared fixtures for the browser tests (headless Debian Chromium via Playwright).

- ``site_dir``      session: the static site, built once with ``build_site``.
- ``server``        session: ``imagesynth serve``'s app (sandbox on) on a free
                    loopback port; a plain static server until that app exists.
                    ``server.url``, ``server.site``, ``server.sandbox``.
- ``static_server`` session: a plain static file server over ``site_dir``.
- ``browser``       module: /usr/bin/chromium, started as chromium.py says.
- ``context``       per test: fresh profile, with the **guard**: every request is
                    recorded (``context.requests``) and any request to a host
                    other than 127.0.0.1/localhost is aborted and fails the test.
- ``page``          per test: a page in ``context``; ``console_errors`` collects
                    its console errors and uncaught page errors.
- ``screenshot(page, name)`` saves ``playwright/screenshots/<name>.png``.

Never run ``playwright install``: the Python package brings its driver and the
browser is Debian's (``apt-get install chromium``).
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chromium  # noqa: E402
from harness import (  # noqa: E402,F401  (re-exported for tests)
    FIXTURES,
    ROOT,
    SHOTS,
    Server,
    free_port,
    is_local,
    screenshot,
    start_imagesynth_server,
    start_static_server,
)


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory) -> Path:
    """The app's static site, built once per session into a temp dir."""
    from imagesynth.build.cli import build_site  # noqa: PLC0415

    dest = tmp_path_factory.mktemp("site") / "site"
    build_site(dest, log=lambda msg: print(f"[build] {msg}", file=sys.stderr))
    return dest


@pytest.fixture(scope="session")
def runtime_info(site_dir) -> dict:
    return json.loads((site_dir / "runtime.json").read_text())


@pytest.fixture(scope="session")
def server(site_dir):
    srv = start_imagesynth_server(site_dir) or start_static_server(site_dir)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def static_server(site_dir):
    srv = start_static_server(site_dir)
    yield srv
    srv.stop()


# Module scope, not session: Playwright's sync API allows one instance at a time,
# and a module may start its own (test_editor.py does).
@pytest.fixture(scope="module")
def _playwright():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(_playwright):
    if not Path(chromium.CHROMIUM).exists():
        msg = f"{chromium.CHROMIUM} missing: apt-get install -y chromium (scripts/test does)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    b = chromium.launch(_playwright, headless=True)
    yield b
    b.close()


class Guard:
    """Records every request; aborts and reports those that leave the machine."""

    def __init__(self):
        self.requests: list[str] = []
        self.blocked: list[str] = []

    def on_request(self, request) -> None:
        self.requests.append(request.url)
        if not is_local(request.url):
            self.blocked.append(request.url)

    def route(self, route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            if route.request.url not in self.blocked:
                self.blocked.append(route.request.url)
            route.abort("blockedbyclient")


@contextmanager
def guarded_context(browser, nodeid: str):
    """A fresh profile with the guard: a request that would leave this machine is aborted, and
    fails the test once the context is closed. Also for a test with a browser of its own."""
    guard = Guard()
    ctx = browser.new_context(viewport={"width": 1280, "height": 860}, service_workers="allow")
    ctx.on("page", lambda p: p.on("crash", lambda _p: _record_crash(nodeid)))
    ctx.on("request", guard.on_request)
    ctx.route("**/*", guard.route)
    ctx.guard = guard
    ctx.requests = guard.requests
    try:
        yield ctx
    finally:
        ctx.close()
    if guard.blocked:
        pytest.fail(
            "the page requested something other than localhost:\n  " + "\n  ".join(guard.blocked[:20]),
            pytrace=False,
        )


@pytest.fixture
def context(browser, request):
    with guarded_context(browser, request.node.nodeid) as ctx:
        yield ctx


@dataclass
class ConsoleMessage:
    type: str
    text: str
    url: str = ""

    def __str__(self) -> str:
        return f"[{self.type}] {self.text}" + (f" ({self.url})" if self.url else "")


@pytest.fixture
def console_errors(context) -> list[ConsoleMessage]:
    """Console errors and uncaught exceptions of every page in this test's context."""
    errors: list[ConsoleMessage] = []

    def attach(page):
        def on_console(msg):
            if msg.type == "error":
                loc = msg.location or {}
                errors.append(ConsoleMessage("error", msg.text, loc.get("url", "")))

        page.on("console", on_console)
        page.on("pageerror", lambda exc: errors.append(ConsoleMessage("pageerror", str(exc))))

    context.on("page", attach)
    return errors


@pytest.fixture
def page(context, console_errors):
    p = context.new_page()  # console_errors hooks it through the "page" event
    p.set_default_timeout(30_000)
    yield p


@pytest.fixture(autouse=True, scope="session")
def _expect_timeout():
    """``expect(...)`` waits up to 15 s (its default, 5 s, is short on a loaded 2-core machine)."""
    try:
        from playwright.sync_api import expect  # noqa: PLC0415
    except ImportError:
        yield
        return
    expect.set_options(timeout=15_000)
    yield


@pytest.fixture(name="screenshot")
def screenshot_fixture():
    return screenshot


# Renderer crashes, listed at the end of the run (the test is rerun: pyproject.toml's addopts),
# with the crash dumps Chromium wrote meanwhile: the signal and the faulting instruction in
# them is how the cause in chromium.py was found.
RENDERER_CRASHES: list[str] = []
CRASH_DUMPS = Path.home() / ".config" / "chromium" / "Crash Reports" / "pending"
_DUMPS_BEFORE: set[str] = set()


def _crash_dumps() -> set[str]:
    return {p.name for p in CRASH_DUMPS.glob("*.dmp")} if CRASH_DUMPS.is_dir() else set()


def pytest_sessionstart(session):
    _DUMPS_BEFORE.update(_crash_dumps())


def _record_crash(nodeid: str) -> None:
    from apphelpers import machine_state  # noqa: PLC0415

    RENDERER_CRASHES.append(f"{nodeid}: renderer crashed ({machine_state()})")


@pytest.fixture
def app_page(page, server):
    """The app opened and connected to the sandbox: where most app tests start."""
    from apphelpers import open_app, use_sandbox  # noqa: PLC0415

    if not server.sandbox:
        pytest.skip("needs imagesynth serve's sandbox endpoint")
    open_app(page, server)
    use_sandbox(page)
    return page


def pytest_terminal_summary(terminalreporter):
    if RENDERER_CRASHES:
        terminalreporter.section("Chromium renderer crashes (each test rerun in a new page)")
        for line in RENDERER_CRASHES:
            terminalreporter.write_line(line)
        new = sorted(_crash_dumps() - _DUMPS_BEFORE)
        terminalreporter.write_line(f"{len(new)} new crash dumps in {CRASH_DUMPS}: {' '.join(new[:8])}")
