"""How the browser tests and the bench start Debian's Chromium: one set of switches for all.

Chromium's in-process heap profiler is switched off. This build turns it on at random, in
about one browser launch out of twelve (feature ``HeapProfilerReporting``, which is on by default
with a "nonstable-probability" for builds of no channel). In such a browser a renderer crashes
with SIGSEGV whenever an allocation the profiler samples is made while the page's main thread
runs on a WebAssembly secondary stack, as Pyodide's Python does under JSPI: the profiler
walks the stack by frame pointers up to the main thread's stack end and reads past the secondary
stack into its guard page. Every "Target crashed" of the test runs (CI's bursts in one module,
one browser) was this. The crash dumps in ``~/.config/chromium/Crash Reports/pending`` all
fault at the same instruction, on the main thread, with the stack pointer in a region V8
mapped, and forcing the profiler on
(``--enable-features=HeapProfilerReporting:stable-probability/1.0/nonstable-probability/1.0``)
crashes nearly every app test.

Chromium honours only the last ``--disable-features``, and Playwright passes its own list first,
so ours repeats Playwright's list, read once from a browser it launched, and adds to it.
"""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("IMAGESYNTH_CHROMIUM", "/usr/bin/chromium")
# The background-networking switches keep Chromium from calling out of this closed network.
BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
OFF_FEATURES = ("HeapProfilerReporting",)

_playwrights_features: list[str] | None = None  # read once per process


def launch(playwright, extra_args=(), **kwargs):
    """``playwright.chromium.launch`` with BASE_ARGS, ``extra_args``, and OFF_FEATURES off
    beside Playwright's own list. Sync API."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=launch_args(playwright, extra_args), **kwargs)


def launch_args(playwright, extra_args=()) -> list[str]:
    global _playwrights_features
    if _playwrights_features is None:
        plain = playwright.chromium.launch(executable_path=CHROMIUM, args=BASE_ARGS)
        try:
            _playwrights_features = disabled_features(plain)
        finally:
            plain.close()
    features = _playwrights_features + [f for f in OFF_FEATURES if f not in _playwrights_features]
    return [*BASE_ARGS, *extra_args, "--disable-features=" + ",".join(features)]


def disabled_features(browser) -> list[str]:
    """The features a running browser was started with off: its last ``--disable-features``,
    read from the browser process's command line (Linux's /proc; DevTools gives the pid)."""
    cdp = browser.new_browser_cdp_session()
    try:
        processes = cdp.send("SystemInfo.getProcessInfo")["processInfo"]
    finally:
        cdp.detach()
    pid = next(p["id"] for p in processes if p["type"] == "browser")
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = f.read().decode().split("\0")
    values = [a.split("=", 1)[1] for a in argv if a.startswith("--disable-features=")]
    return [f for f in values[-1].split(",") if f] if values else []
