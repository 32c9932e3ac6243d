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

The app itself now starts Pyodide without JSPI, which avoids the crash for its users in a
Chrome whose profiler is on (static/start-pyodide.js, test_app_chromium.py); the tests keep
the profiler off all the same, so that a crash they see is another one.

Chromium honours only the last ``--disable-features`` (and ``--enable-features``), and
Playwright passes its own lists first, so ours repeat Playwright's, read once from a browser
it launched, and add to them.
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
# For a test that wants the profiler on in every launch (the default is a chance per launch).
HEAP_PROFILER_ON = "HeapProfilerReporting:stable-probability/1.0/nonstable-probability/1.0"

_playwrights_features: dict[str, list[str]] | None = None  # read once per process


def launch(playwright, extra_args=(), *, off=OFF_FEATURES, on=(), **kwargs):
    """``playwright.chromium.launch`` with BASE_ARGS and ``extra_args``, and the features in
    ``off`` and ``on`` switched so beside Playwright's own lists. Sync API."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=launch_args(playwright, extra_args, off=off, on=on), **kwargs)


def launch_args(playwright, extra_args=(), *, off=OFF_FEATURES, on=()) -> list[str]:
    args = [*BASE_ARGS, *extra_args]
    for switch, ours in (("disable", off), ("enable", on)):
        theirs = playwrights_features(playwright)[switch]
        if ours:
            args.append(f"--{switch}-features=" + ",".join(theirs + [f for f in ours if f not in theirs]))
    return args


def playwrights_features(playwright) -> dict[str, list[str]]:
    """The features Playwright itself disables and enables ({"disable": [...], "enable": [...]}),
    read from a browser it launched with BASE_ARGS alone; once per process."""
    global _playwrights_features
    if _playwrights_features is None:
        plain = playwright.chromium.launch(executable_path=CHROMIUM, args=BASE_ARGS)
        try:
            _playwrights_features = {"disable": features(plain, "disable"), "enable": features(plain, "enable")}
        finally:
            plain.close()
    return _playwrights_features


def features(browser, switch: str) -> list[str]:
    """The features a running browser was started with ``switch``ed ("enable", "disable"): its
    last ``--<switch>-features``, read from the browser process's command line (Linux's /proc;
    DevTools gives the pid)."""
    cdp = browser.new_browser_cdp_session()
    try:
        processes = cdp.send("SystemInfo.getProcessInfo")["processInfo"]
    finally:
        cdp.detach()
    pid = next(p["id"] for p in processes if p["type"] == "browser")
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = f.read().decode().split("\0")
    prefix = f"--{switch}-features="
    values = [a[len(prefix):] for a in argv if a.startswith(prefix)]
    return [f for f in values[-1].split(",") if f] if values else []
