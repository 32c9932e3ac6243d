"""The app in a Chrome whose sampling heap profiler is on, as Chrome has it in a share of its
sessions: Pyodide starts without JSPI, so no Python call runs on a secondary stack that the
profiler's stack walk reads past (static/start-pyodide.js, playwright/chromium.py)."""

from __future__ import annotations

import pytest

import chromium
import conftest
from apphelpers import add_page_python, open_app, use_sandbox
from refhelpers import run_and_wait

pytestmark = pytest.mark.usefixtures("server")

JSPI_SEEN = """
import pyodide_js
from pyscript import document
document.body.setAttribute("data-jspi", str(bool(pyodide_js._module.jspiSupported)))
"""


def test_pyodide_starts_without_jspi_and_the_page_keeps_it(app_page):
    page = app_page
    add_page_python(page, JSPI_SEEN)
    page.wait_for_selector("body[data-jspi]")
    assert page.get_attribute("body", "data-jspi") == "False"
    # hidden from Pyodide only while it started: the page's own WebAssembly is whole again
    assert page.evaluate("typeof WebAssembly.Suspending") == "function"


def test_runs_survive_chromiums_heap_profiler(_playwright, server, request):
    """Three generate runs with the profiler forced on. With JSPI, nearly every run of the app's
    tests crashed its tab so; the crash is reported as a plain failure here, not as "Page
    crashed", so pyproject's reruns cannot hide it."""
    if not server.sandbox:
        pytest.skip("needs imagesynth serve's sandbox endpoint")
    browser = chromium.launch(_playwright, off=(), on=(chromium.HEAP_PROFILER_ON,))
    crashed = []
    try:
        assert chromium.HEAP_PROFILER_ON in chromium.features(browser, "enable")
        with conftest.guarded_context(browser, request.node.nodeid) as ctx:  # localhost only
            page = ctx.new_page()
            page.on("crash", lambda _page: crashed.append(True))
            try:
                open_app(page, server)
                use_sandbox(page)
                for i in range(3):
                    page.fill("#prompt", f"a lighthouse at dusk, take {i + 1}")
                    run = run_and_wait(page)
                    assert run.get_attribute("data-state") == "done", run.inner_text()
            except Exception:
                if crashed:
                    raise AssertionError("the tab died with Chromium's heap profiler on") from None
                raise
            assert not crashed
    finally:
        browser.close()
