"""Helpers shared by the app's browser tests (test_app_*.py)."""

from __future__ import annotations

import re

READY_TIMEOUT = 60_000  # cold Pyodide start on a slow CI machine


def open_app(page, server, path: str = "/"):
    page.goto(server.url + path)
    page.wait_for_selector("body[data-ready]", timeout=READY_TIMEOUT)
    return page


def use_sandbox(page):
    page.wait_for_selector("#provider-sandbox-label:not([hidden])", timeout=15_000)
    if page.locator("#connect").is_hidden():
        page.click("#open-connect")
    page.check("#provider-sandbox")
    page.click("#use-connection")
    page.wait_for_selector("#conn-status[data-state=ok]", timeout=15_000)


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
    """Pixel sizes of the gallery's images, decoded from their blobs (lazy loading aside)."""
    return [tuple(x) for x in page.evaluate("""async () => {
        const out = [];
        for (const img of document.querySelectorAll('#gallery .tile img')) {
            img.loading = 'eager';
            await img.decode();
            out.push([img.naturalWidth, img.naturalHeight]);
        }
        return out;
    }""")]


def no_traceback(text: str) -> bool:
    return not re.search(r"Traceback|File \"|line \d+, in ", text)
