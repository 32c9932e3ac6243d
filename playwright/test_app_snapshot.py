"""The snapshot of Python's start: a first visit saves one when idle, a later visit starts from it
and works as any other; one that does not fit this runtime is dropped, never half-used; it holds
nothing the user typed (static/snapshot-restore.js, static/snapshot-save.js,
static/snapshot-worker.js, py/imagesynth/build/snapshot.py)."""

from __future__ import annotations

import json
import re

import pytest

from apphelpers import SNAPSHOT_SETTLED, add_page_python, open_app, use_compatible, use_sandbox
from refhelpers import run_and_wait

pytestmark = pytest.mark.usefixtures("server")

CACHE = "imagesynth-runtime"

# The entries of the snapshot cache, as [url, byte length].
ENTRIES_JS = """async (name) => {
  const cache = await caches.open(name);
  const out = [];
  for (const req of await cache.keys()) out.push([req.url, (await (await cache.match(req)).arrayBuffer()).byteLength]);
  return out;
}"""

# Python's view of the restored interpreter, written where the test can read it.
STATE_PY = """
import json, random, sys
from pyscript import document
document.body.setAttribute("data-state", json.dumps({
    "random": random.random(),
    "empty_path_entries": sys.path.count(""),
    "jspi": bool(__import__("pyodide_js")._module.jspiSupported),
}))
"""


def settle(page, timeout: float = 90_000) -> str:
    page.wait_for_function(SNAPSHOT_SETTLED, timeout=timeout)
    return page.evaluate("[document.documentElement.dataset.snapshot, document.documentElement.dataset.snapshotNote]")


def start_of(page) -> str:
    return page.get_attribute("html", "data-python-start")


def state(page) -> dict:
    page.evaluate("document.body.removeAttribute('data-state')")
    add_page_python(page, STATE_PY)
    page.wait_for_selector("body[data-state]")
    return json.loads(page.get_attribute("body", "data-state"))


def snapshot_url(page) -> str:
    key = page.get_attribute('meta[name="imagesynth-snapshot"]', "content")
    return page.evaluate("(key) => new URL(`py/runtime-snapshot-${key}.bin`, location.href).href", key)


def test_the_next_visit_starts_from_the_snapshot_and_works(page, server, console_errors, screenshot):
    if not server.sandbox:
        pytest.skip("needs imagesynth serve's sandbox endpoint")
    open_app(page, server)
    assert start_of(page) == "fresh"
    assert settle(page)[0] == "saved"
    entries = page.evaluate(ENTRIES_JS, CACHE)
    assert [url for url, _ in entries] == [snapshot_url(page)]
    assert 4 << 20 < entries[0][1] < 64 << 20  # Pyodide's memory without its zero pages

    open_app(page, server)
    assert start_of(page) == "snapshot"
    first = state(page)
    assert first["empty_path_entries"] == 1 and first["jspi"] is False
    use_sandbox(page)
    page.fill("#prompt", "a lighthouse on a cliff at dawn, watercolor")
    run = run_and_wait(page)
    assert run.get_attribute("data-state") == "done", run.inner_text()
    page.click("#open-about")
    about = page.locator('#about-list dd[data-key="Python start"]')
    assert "snapshot saved on this device" in about.inner_text()
    screenshot(page, "snapshot-about", full_page=False)
    page.click("#about-close")
    # a started-from-snapshot page does not make another
    assert page.get_attribute("html", "data-snapshot") is None

    open_app(page, server)
    assert start_of(page) == "snapshot"
    second = state(page)
    assert second["random"] != first["random"], "every restored page drew the same random numbers"
    assert not console_errors, console_errors


BUILD_ID_FLIPPED_JS = """async ([name, url]) => {
  // the stored snapshot with its Pyodide build id changed: well-formed, made for another runtime
  const cache = await caches.open(name);
  const bytes = new Uint8Array(await (await cache.match(url)).arrayBuffer());
  const [, , length, size] = new Uint32Array(bytes.buffer, 0, 4);
  const first = 16 + Math.ceil(Math.ceil(length / size) / 8) * 8;  // page 0 (the snapshot's header) is stored
  for (let i = first + 16; i < first + 48; i++) bytes[i] ^= 0xff;
  await cache.put(url, new Response(bytes));
}"""


@pytest.mark.parametrize("spoil", ["another-build", "unreadable"])
def test_a_snapshot_that_does_not_restore_is_dropped_and_not_made_again(page, server, console_errors, spoil):
    """Python starts afresh and the app works; the entry goes; and as whatever failed would fail
    again, this runtime gets no new snapshot here (each try would cost a visit's worth of work)."""
    if not server.sandbox:
        pytest.skip("needs imagesynth serve's sandbox endpoint")
    open_app(page, server)
    assert settle(page)[0] == "saved"
    url = snapshot_url(page)
    if spoil == "another-build":
        page.evaluate(BUILD_ID_FLIPPED_JS, [CACHE, url])
    else:
        page.evaluate("async ([name, url]) => (await caches.open(name)).put(url, new Response('not a snapshot'))",
                      [CACHE, url])
    warnings = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    open_app(page, server)
    assert start_of(page) == "fresh"
    assert any("did not restore" in w for w in warnings), warnings
    assert settle(page) == ["skipped", "one made here earlier did not restore"]
    page.wait_for_function("async ([name, url]) => !(await (await caches.open(name)).match(url))", arg=[CACHE, url])
    use_sandbox(page)
    page.fill("#prompt", "a red kite over the dunes")
    assert run_and_wait(page).get_attribute("data-state") == "done"
    open_app(page, server)
    assert start_of(page) == "fresh" and settle(page)[0] == "skipped"
    assert page.evaluate(ENTRIES_JS, CACHE) == []
    assert not console_errors, console_errors


def test_a_failure_with_an_earlier_build_does_not_stop_this_one(context, server):
    context.add_init_script("localStorage.setItem(`imagesynth.snapshot ${location.origin}/`,"
                            " JSON.stringify({key: '0123456789abcdef01234567', failed: true}))")
    page = context.new_page()
    open_app(page, server)
    assert settle(page)[0] == "saved"


def test_a_snapshot_gone_from_storage_is_made_again(page, server, console_errors):
    open_app(page, server)
    assert settle(page)[0] == "saved"
    page.evaluate("caches.delete('imagesynth-runtime')")  # the note in localStorage stays
    open_app(page, server)
    assert start_of(page) == "fresh"
    assert settle(page)[0] == "saved"
    open_app(page, server)
    assert start_of(page) == "snapshot"
    assert not console_errors, console_errors


@pytest.mark.parametrize("length", ["1e15", "-5", "'many'", "12345"])
def test_a_note_that_fits_no_snapshot_starts_python_as_always_and_one_is_made(context, server, length):
    """The note in localStorage says a snapshot of this runtime is saved, with a length no snapshot
    has: a snapshot problem, whatever it is, never keeps Python from starting, and is mended."""
    key = re.search(r'name="imagesynth-snapshot" content="([0-9a-f]+)"',
                    (server.site / "index.html").read_text()).group(1)
    context.add_init_script("if (!sessionStorage.getItem('noted')) { sessionStorage.setItem('noted', '1');"
                            " localStorage.setItem(`imagesynth.snapshot ${location.origin}/`,"
                            f" JSON.stringify({{key: '{key}', length: {length}}})); }}")
    page = context.new_page()
    open_app(page, server)
    assert start_of(page) == "fresh"
    assert settle(page)[0] == "saved"
    open_app(page, server)
    assert start_of(page) == "snapshot"


def test_the_snapshot_holds_nothing_the_user_typed(page, server):
    if not server.sandbox:
        pytest.skip("needs imagesynth serve's sandbox endpoint")
    secret, prompt = "sk-snapshot-canary-7f3a9c", "a canary yellow submarine, prompt-canary-51e2"
    open_app(page, server)
    use_compatible(page, server.url + "/v1", secret, remember=True)
    page.fill("#prompt", prompt)
    assert settle(page)[0] == "saved"
    found = page.evaluate("""async ([name, needles]) => {
      const cache = await caches.open(name);
      const [req] = await cache.keys();
      const bytes = new Uint8Array(await (await cache.match(req)).arrayBuffer());
      const text = new TextDecoder("latin1").decode(bytes);
      return needles.filter((n) => text.includes(n));
    }""", [CACHE, [secret, "prompt-canary-51e2"]])
    assert found == []
    # and the page that typed them still has them: the test looked in the right place
    assert page.input_value("#prompt") == prompt


def test_an_older_snapshot_of_this_site_goes_when_a_new_one_is_saved(page, server):
    open_app(page, server)
    base = page.evaluate("location.href")
    old, other = base + "py/runtime-snapshot-0123456789abcdef01234567.bin", "http://127.0.0.1:1/py/runtime-snapshot-x.bin"
    page.evaluate("async ([name, urls]) => { const c = await caches.open(name);"
                  " for (const u of urls) await c.put(u, new Response('old')); }", [CACHE, [old, other]])
    assert settle(page)[0] == "saved"
    urls = [u for u, _ in page.evaluate(ENTRIES_JS, CACHE)]
    assert old not in urls
    assert other in urls  # another site's (another origin or path) is not this page's to delete
    assert snapshot_url(page) in urls


def test_no_snapshot_where_storage_is_short(context, server):
    # the user's images come first: a site with little quota left saves no snapshot
    context.add_init_script("navigator.storage.estimate = async () => ({ quota: 600 << 20, usage: 300 << 20 });")
    page = context.new_page()
    open_app(page, server)
    state_, note = settle(page)
    assert state_ == "skipped" and "storage" in note
    assert page.evaluate(ENTRIES_JS, CACHE) == []
    page.click("#open-about")
    assert "no snapshot saved" in page.locator('#about-list dd[data-key="Python start"]').inner_text()
