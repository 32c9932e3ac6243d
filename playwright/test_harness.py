"""The browser tests' own machinery, where it does more than call Playwright."""

from __future__ import annotations

import chromium
import conftest
from apphelpers import open_app

_ATTEMPTS: list[str] = []


def test_a_renderer_crash_reruns_the_test(page, server, request):
    """The first attempt kills its renderer (DevTools' Page.crash) and fails as a crash does;
    pyproject.toml's reruns run the test again in a new context and page, and the run's summary
    lists the crash. Without the rerun configured this test fails."""
    _ATTEMPTS.append(request.node.nodeid)
    if len(_ATTEMPTS) == 1:
        cdp = page.context.new_cdp_session(page)

        def crash(_page):
            try:
                cdp.send("Page.crash")  # DevTools' own way to kill a renderer
            except Exception:  # noqa: BLE001  (the renderer dies before it answers)
                pass

        page.once("domcontentloaded", crash)
        page.goto(server.url + "/")
        page.wait_for_selector("body[data-wired]", timeout=10_000)  # raises: "Page crashed"
        raise AssertionError("the page survived Page.crash")
    assert [line for line in conftest.RENDERER_CRASHES if line.startswith(request.node.nodeid)
            and "free in" in line], conftest.RENDERER_CRASHES
    assert open_app(page, server).get_attribute("body", "data-wired") is not None


def test_chromium_runs_without_its_heap_profiler_and_keeps_playwrights_switches(browser, _playwright):
    """The heap profiler, which crashed renderers running Pyodide (chromium.py says how), is off
    in the tests' browser, and so is every feature Playwright itself turns off: Chromium reads
    only the last --disable-features, so a list of ours alone would quietly drop Playwright's."""
    ours = chromium.features(browser, "disable")
    assert "HeapProfilerReporting" in ours, ours
    playwrights = chromium.playwrights_features(_playwright)["disable"]
    assert playwrights and "HeapProfilerReporting" not in playwrights, playwrights
    assert set(playwrights) <= set(ours), sorted(set(playwrights) - set(ours))
