"""Helpers shared by the app's browser tests (test_app_*.py)."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

READY_TIMEOUT = 60_000  # cold Pyodide start on a slow CI machine
# A first visit's snapshot of Python's start is saved, or it said why not (static/snapshot-save.js).
SNAPSHOT_SETTLED = "['saved', 'skipped', 'failed'].includes(document.documentElement.dataset.snapshot)"


def open_app(page, server, path: str = "/"):
    page.goto(server.url + path)
    page.wait_for_selector("body[data-wired]", timeout=READY_TIMEOUT)
    return page


def add_page_python(page, code: str) -> None:
    """Run ``code`` in the app's own interpreter, as a <script type="py"> added to the page
    (PyScript runs it beside main.py: same modules, same app state). It runs asynchronously;
    the caller waits for something it sets on the page."""
    page.evaluate("(code) => { const s = document.createElement('script'); s.type = 'py';"
                  " s.textContent = code; document.body.appendChild(s); }", code)


def machine_state() -> str:
    """Free disk under the temp dir (where Chromium keeps its shared memory) and free memory:
    said with each renderer crash (conftest.py), the cause a page itself could have. The
    crashes seen so far were Chromium's own (chromium.py)."""
    free_tmp = shutil.disk_usage(tempfile.gettempdir()).free
    try:
        meminfo = Path("/proc/meminfo").read_text()
        avail = next(int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemAvailable"))
    except (OSError, StopIteration, ValueError):
        return f"free in {tempfile.gettempdir()}: {free_tmp >> 20} MB"
    return f"free in {tempfile.gettempdir()}: {free_tmp >> 20} MB, memory available: {avail >> 10} MB"


def use_sandbox(page):
    page.wait_for_selector("#provider-sandbox-label:not([hidden])", timeout=30_000)
    if page.locator("#connect").is_hidden():
        page.click("#open-connect")
    page.check("#provider-sandbox")
    page.click("#use-connection")
    page.wait_for_selector("#conn-status[data-state=ok]", timeout=30_000)


def use_compatible(page, base_url: str, key: str, *, remember: bool):
    if page.locator("#connect").is_hidden():
        page.click("#open-connect")
    page.check("#provider-compatible")
    page.fill("#base-url", base_url)
    page.fill("#api-key", key)
    page.check("#storage-device" if remember else "#storage-tab")
    page.click("#use-connection")


def generate(page, prompt: str, *, n: int = 1, size: str = "Small", stream: bool | None = None,
             wait: bool = True, timeout: float = 60_000):
    """Fill the form, press Generate; with ``wait`` return the finished run's locator."""
    page.fill("#prompt", prompt)
    page.fill("#n", str(n))
    page.select_option("#size", size)
    if stream is not None and page.locator("#param-stream").count():
        page.set_checked("#param-stream", stream)
    before = page.locator("#runs .run").count()
    page.click("#generate")
    page.wait_for_function(f"document.querySelectorAll('#runs .run').length > {before}")
    run = page.locator("#runs .run").first
    if wait:
        wait_run_end(page, timeout=timeout)
    return run


def wait_run_end(page, timeout: float = 60_000):
    page.wait_for_selector("#runs .run:first-child:not([data-state=running])", timeout=timeout)
    return page.locator("#runs .run").first


def alert_titles(locator) -> list[str]:
    return [t.strip() for t in locator.locator(".alert .alert-title").all_inner_texts()]


def image_sizes(page) -> list[tuple[int, int]]:
    """Pixel sizes of the gallery's images, newest first: the full images as stored (tiles show
    thumbnails), decoded; for a tile the store would not keep, its shown image."""
    return [tuple(x) for x in page.evaluate("""async () => {
        const idb = await import('/static/idb.js');
        const out = [];
        // A tile can be on screen a moment before its full image is committed to the store
        // (or before it says it will not be): wait for that, not for a fixed time.
        const deadline = performance.now() + 30000;
        for (const tile of document.querySelectorAll('#gallery .tile')) {
            let blob = null;
            for (;;) {
                const id = Number(tile.dataset.id);
                blob = id ? await idb.getFull(id) : null;
                if (blob || tile.dataset.saved === '0' || performance.now() > deadline) break;
                await new Promise(r => setTimeout(r, 100));
            }
            if (blob) {
                const bmp = await createImageBitmap(blob);
                out.push([bmp.width, bmp.height]);
                continue;
            }
            const img = tile.querySelector('img');
            img.loading = 'eager';
            await img.decode();
            out.push([img.naturalWidth, img.naturalHeight]);
        }
        return out;
    }""")]


def no_traceback(text: str) -> bool:
    return not re.search(r"Traceback|File \"|line \d+, in ", text)


def drop_file(page, data: bytes, name: str, mime: str, selector: str = "#gallery-title"):
    """Drop a file on ``selector`` the way a browser does (dragenter, dragover, drop with a DataTransfer)."""
    page.evaluate("""([bytes, name, mime, selector]) => {
        const file = new File([new Uint8Array(bytes)], name, {type: mime});
        const dt = new DataTransfer();
        dt.items.add(file);
        const target = document.querySelector(selector);
        for (const type of ['dragenter', 'dragover', 'drop']) {
            target.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
        }
    }""", [list(data), name, mime, selector])


def download_bytes(page, click_selector: str, timeout: float = 30_000) -> tuple[str, bytes]:
    """Click something that downloads; (suggested file name, bytes)."""
    with page.expect_download(timeout=timeout) as dl:
        page.click(click_selector)
    d = dl.value
    with open(d.path(), "rb") as f:
        return d.suggested_filename, f.read()
