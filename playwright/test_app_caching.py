"""A returning visit takes the app's start-up files from the browser's cache without asking the
server: the build names them by its version (py/imagesynth/build/versions.py) and imagesynth
serve lets the browser keep those for good; only the page and its PyScript config, which name
them, are asked for again."""

from __future__ import annotations

import pytest

from apphelpers import SNAPSHOT_SETTLED, open_app
from conftest import is_local

from imagesynth.build.versions import VERSIONED_NAME, VERSIONED_RUNTIME

# Every file the page loaded, as [path, bytes over the network] (0: from the cache, not asked for).
LOADED_JS = """() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
  .map((e) => [new URL(e.name).pathname, e.transferSize])"""


def test_a_returning_visit_asks_only_for_the_page_and_its_config(browser, server):
    # not the guarded context of the other tests: a routed context has no HTTP cache
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    offsite: list[str] = []
    ctx.on("request", lambda r: None if is_local(r.url) else offsite.append(r.url))
    try:
        page = ctx.new_page()
        open_app(page, server)
        page.wait_for_function(SNAPSHOT_SETTLED, timeout=90_000)  # no worker still busy with the first visit
        first = page.evaluate(LOADED_JS)
        open_app(page, server)  # a new visit, not a reload: a reload asks again for everything
        again = page.evaluate(LOADED_JS)
    finally:
        ctx.close()
    assert not offsite, offsite

    versioned = sorted({path for path, _ in first if VERSIONED_NAME.match(path.rpartition("/")[2])})
    assert len(versioned) >= 10, versioned  # the page does load its files by their versioned names
    fetched = {path for path, size in first if size > 0}  # (a preloaded file's use is a second entry, 0)
    assert fetched >= set(versioned), sorted(set(versioned) - fetched)  # the first visit fetched each
    runtime = {path for path, _ in first if path.count("/") > 1 and path.split("/")[1].startswith("pyscript")}
    assert len(runtime) >= 5 and all(VERSIONED_RUNTIME.match(p.split("/")[1]) for p in runtime), sorted(runtime)
    asked = {path for path, size in again if size > 0}
    assert not asked & set(versioned), sorted(asked & set(versioned))
    assert not asked & runtime, sorted(asked & runtime)  # the runtime, in its versioned folder
    assert "/" in asked  # the page itself is asked for again: it names the current build
    used = {path for path, _ in again if path in versioned}  # all but what saves a snapshot (done)
    assert len(used) >= 10 and not used & asked, sorted(used)


@pytest.fixture
def server(server):
    if not server.sandbox:
        pytest.skip("needs imagesynth serve (its cache headers)")
    return server
