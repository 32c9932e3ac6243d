"""imagesynth benchmark (issue 7): where the time goes, beside baselines measured in the same run.

  .venv/bin/python bench/run.py [--runs 5] [--json out.json] [--quick] [--latency MS]

Builds the site into a temp dir, serves it with ``imagesynth serve``'s app (sandbox at /v1)
on a free loopback port, adds the baseline pages of bench/pages/ under /bench/, and drives
headless Chromium (/usr/bin/chromium, Playwright) against it.  Each figure is the median of
--runs runs; ratios are figure / baseline.  Prints one table; --json writes it as JSON.
Rows whose dependency is missing (app, editor bench, Pillow, ...) say "n/a (reason)".
No figure is asserted anywhere: these machines are noisy; read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import io
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PAGES = Path(__file__).resolve().parent / "pages"
for p in (ROOT / "py", ROOT / "tests", ROOT / "bench", ROOT / "playwright"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import chromium  # noqa: E402  (playwright/chromium.py: the switches the browser tests use too)

CHROMIUM = chromium.CHROMIUM
LOCAL_HOSTS = ("127.0.0.1", "localhost")
# Keeps every page on this machine: any other host name fails to resolve.
RESOLVER_RULE = "--host-resolver-rules=MAP * ~NOTFOUND, " + ", ".join(f"EXCLUDE {h}" for h in LOCAL_HOSTS)
VIEWPORT = {"width": 1280, "height": 860}
EDIT_MODEL = "gpt-image-1"  # the profile used to prepare the 12 MP edit
ONE_PER_REQUEST_MODEL = "dall-e-3"

# (key, figure, target text)
ROWS = [
    ("typing", "prompt box accepts typing, cold cache", "<= 1.5x"),
    ("typing_noscript", "  the same vs the app's page with no script", "(context)"),
    ("ready_cold", "Python ready (Generate works), cold cache", "<= 1.15x"),
    ("ready_warm", "Python ready (Generate works), warm cache", "<= 1.15x"),
    ("ready_warm_nosnap", "  the same, warm, with no snapshot of Python's start", "(context)"),
    ("ready_cold_npm", "  the same, cold, vs npm Pyodide as published", "(context)"),
    ("ready_warm_npm", "  the same, warm, vs npm Pyodide as published", "(context)"),
    ("ready_cold_pyscript", "  the same, cold, vs PyScript alone", "(context)"),
    ("ready_warm_pyscript", "  the same, warm, vs PyScript alone", "(context)"),
    ("client_overhead", "last byte -> image shown+stored, 1024^2 PNG", "<= 3x and < 30 ms"),
    ("n4_cpython", "n=4 dall-e-3, slow:2 each, CPython", "<= 1.3x"),
    ("n4_page", "n=4 dall-e-3, slow:2 each, in the page", "<= 1.3x"),
    ("prepare_page", "12 MP JPEG edit, click -> request, page", "< 500 ms"),
    ("prepare_pillow", "prepare 12 MP JPEG edit, Pillow/CPython", "< 300 ms"),
    ("painting", "painting: pointermove -> painted frame, p95", "< 16 ms"),
    ("first_load_bytes", "bytes transferred on first load", "< 8 MB"),
    ("memory_200", "page memory, 200 images in history", "< 300 MB"),
]

# --only: which measure_* runs which rows
GROUPS = {
    "boot": ["typing", "typing_noscript", "ready_cold", "ready_warm", "ready_warm_nosnap", "ready_cold_npm",
             "ready_warm_npm",
             "ready_cold_pyscript", "ready_warm_pyscript", "first_load_bytes"],
    "app": ["client_overhead", "n4_page", "prepare_page"],
    "memory": ["memory_200"],
    "cpython": ["n4_cpython"],
    "pillow": ["prepare_pillow"],
    "painting": ["painting"],
}

# Recorded in every page before its own scripts: first input into #prompt, its first focus
# (autofocus, in the first frame), body[data-ready], body[data-connected="1"], on the page's
# performance.now() clock (0 = navigation start).
INIT_SCRIPT = r"""
(() => {
  const B = window.__bench = {firstInput: null, focus: null, ready: null, connected: null};
  document.addEventListener('input', (e) => {
    if (B.firstInput === null && e.target && e.target.id === 'prompt') B.firstInput = performance.now();
  }, true);
  document.addEventListener('focus', (e) => {
    if (B.focus === null && e.target && e.target.id === 'prompt') B.focus = performance.now();
  }, true);
  const check = () => {
    const b = document.body; if (!b) return;
    if (B.ready === null && b.hasAttribute('data-ready')) B.ready = performance.now();
    if (B.connected === null && b.getAttribute('data-connected') === '1') B.connected = performance.now();
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true, attributes: true,
                                                 attributeFilter: ['data-ready', 'data-connected']});
})();
"""

# Click Generate; resolve when the first new gallery <img> is decoded. The resource entry of the
# images request gives "last byte received" (responseEnd) on the same clock.
GENERATE_SHOWN_JS = r"""
async ({timeout}) => {
  const gallery = document.getElementById('gallery');
  const before = new Set(gallery.querySelectorAll('img'));
  const t0 = performance.now();
  const shown = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no new image in the gallery')), timeout);
    const look = () => {
      for (const img of gallery.querySelectorAll('img')) {
        if (!before.has(img) && img.getAttribute('src')) {
          mo.disconnect(); clearTimeout(timer);
          const done = () => resolve(performance.now());
          img.decode().then(done, done);
          return;
        }
      }
    };
    const mo = new MutationObserver(look);
    mo.observe(gallery, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
  });
  document.getElementById('generate').click();
  const tShown = await shown;
  const res = performance.getEntriesByType('resource')
    .filter(e => e.name.includes('/v1/images/') && e.startTime >= t0 - 1);
  const last = res[res.length - 1];
  return {t0, responseEnd: last ? last.responseEnd : null, shown: tShown, url: last ? last.name : null,
          bytes: last ? last.encodedBodySize : null,
          marks: performance.getEntriesByType('mark').filter(m => m.name.startsWith('imagesynth')).map(m => [m.name, m.startTime])};
}
"""

# Click Generate; resolve when the new run card leaves data-state="running".
GENERATE_DONE_JS = r"""
async ({timeout}) => {
  const runs = document.getElementById('runs');
  for (const n of runs.querySelectorAll('.run')) n.__benchSeen = true;
  const sleep = (ms) => new Promise(r => setTimeout(r, ms));
  const t0 = performance.now();
  document.getElementById('generate').click();
  let node = null;
  while (!node) {
    if (performance.now() - t0 > timeout) throw new Error('no run card appeared');
    await sleep(5);
    for (const n of runs.querySelectorAll('.run')) if (!n.__benchSeen) { node = n; break; }
  }
  while (node.getAttribute('data-state') === 'running') {
    if (performance.now() - t0 > timeout) throw new Error('the run did not finish');
    await sleep(5);
  }
  return {ms: performance.now() - t0, state: node.getAttribute('data-state'),
          rows: [...node.querySelectorAll('.row')].map(r => r.getAttribute('data-stage'))};
}
"""

# Injected into the app page as <script type="py">: runs in the app's own interpreter, so it
# uses the imaging backend the app chose (app.state.app.imaging).
PY_PROBE = r"""
import json as _bj, time as _bt
from pyscript import window as _bw
from pyodide.ffi import create_proxy as _bcp

async def _bench_prepare(jpeg_url, mask_url, runs, model):
    from pyodide.http import pyfetch
    from imagesynth.models import profile_for
    from imagesynth.prepare import prepare_edit
    try:
        from app.state import app as _app
        imaging = _app.imaging
    except Exception:
        imaging = None
    if imaging is None:
        from imagesynth.imaging import default_imaging
        imaging = default_imaging()
    jpeg = await (await pyfetch(jpeg_url)).bytes()
    mask = await (await pyfetch(mask_url)).bytes()
    profile = profile_for(model)
    times = []
    for _ in range(int(runs)):
        t0 = _bt.perf_counter()
        p = await prepare_edit(imaging, profile, jpeg, mask)
        times.append(_bt.perf_counter() - t0)
    return _bj.dumps({"times": times, "imaging": type(imaging).__name__, "upload": list(p.upload_size),
                      "image_bytes": len(p.images[0]), "mask_bytes": len(p.mask or b"")})

def _bench_upload_ready():  # the reference's upload made ahead (prepare.warm_upload), encoded?
    try:
        from app.reference import state as _rs
        kept = _rs.ref.picture.resized
    except Exception:
        return False
    return any(all(job.done() for job in (made.encodings or {}).values()) and made.encodings
               for made in kept.values())

def _bench_forget_upload():  # the next click makes its own upload
    from app.reference import state as _rs
    _rs.ref.picture.resized.clear()

def _bench_wasm():
    try:
        import pyodide_js
        return int(pyodide_js._module.HEAPU8.length)
    except Exception:
        return -1

_bw.__benchPrepare = _bcp(_bench_prepare)
_bw.__benchWasm = _bcp(_bench_wasm)
_bw.__benchUploadReady = _bcp(_bench_upload_ready)
_bw.__benchForgetUpload = _bcp(_bench_forget_upload)
_bw.document.body.setAttribute("data-bench-probe", "1")
"""

# Diagnostic (one extra generation after the measured ones): wraps the app's steps between
# "last byte received" and "shown" to say where the time goes.  Not used for the figures.
PY_STAMPS = r"""
import inspect as _bi, js as _bjs
from pyscript import window as _bw
import imagesynth.orchestrate as _bO
import app.store as _bS, app.views as _bV

_bw.__benchStamps = _bjs.Array.new()

def _bench_wrap(mod, name):
    f = getattr(mod, name)
    if _bi.iscoroutinefunction(f):
        async def g(*a, **k):
            _bw.__benchStamps.push(_bjs.Array.of(name, 0, _bjs.performance.now()))
            try:
                return await f(*a, **k)
            finally:
                _bw.__benchStamps.push(_bjs.Array.of(name, 1, _bjs.performance.now()))
    else:
        def g(*a, **k):
            _bw.__benchStamps.push(_bjs.Array.of(name, 0, _bjs.performance.now()))
            try:
                return f(*a, **k)
            finally:
                _bw.__benchStamps.push(_bjs.Array.of(name, 1, _bjs.performance.now()))
    setattr(mod, name, g)

for _m, _n in ((_bO, "parse_response"), (_bO, "finish_image"), (_bS, "save"), (_bV, "add_tile")):
    _bench_wrap(_m, _n)
_bw.document.body.setAttribute("data-bench-stamps", "1")
"""

INJECT_PY_JS = r"""
(code) => { const s = document.createElement('script'); s.type = 'py'; s.textContent = code;
            document.body.appendChild(s); }
"""


# ----------------------------------------------------------------------------------- helpers
class NA(Exception):
    """A row that cannot be measured here: its reason is printed instead of a figure."""


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    return text[:110]


class Bench:
    def __init__(self, runs: int, quick: bool):
        self.runs = runs
        self.quick = quick
        self.rows: dict[str, dict] = {}
        self.site: Path | None = None
        self.server = None
        self.browser = None
        self.notes: list[str] = []
        self.only: set[str] = set()  # --only groups (empty: all)
        self.offsite: list[str] = []  # requests a page made for another machine (new_context)
        self.latency = 0.0  # --latency: ms Chromium adds to each request (new_page)

    # -- recording
    def put(self, key: str, value=None, baseline=None, unit="ms", *, limit=None, ratio_limit=None,
            samples=None, baseline_samples=None, note="", extra=None):
        ratio = (value / baseline) if (value is not None and baseline) else None
        ok = True
        context = limit is None and ratio_limit is None  # a figure shown for comparison, no target
        if limit is not None:
            ok = ok and value is not None and value < limit
        if ratio_limit is not None:
            ok = ok and ratio is not None and ratio <= ratio_limit
        label, target = next((f, t) for k, f, t in ROWS if k == key)
        self.rows[key] = {
            "figure": label, "target": target, "unit": unit, "value": value, "baseline": baseline,
            "ratio": ratio, "status": "info" if context else "PASS" if ok else "MISS", "samples": samples or [],
            "baseline_samples": baseline_samples or [], "note": note, **({"extra": extra} if extra else {}),
        }

    def na(self, key: str, reason: str):
        label, target = next((f, t) for k, f, t in ROWS if k == key)
        self.rows[key] = {"figure": label, "target": target, "unit": None, "value": None, "baseline": None,
                          "ratio": None, "status": "n/a", "note": reason}

    def guarded(self, group, fn, *args):
        """Run fn for the rows of GROUPS[group]; any it did not fill becomes n/a with the reason."""
        keys = GROUPS[group]
        if self.only and group not in self.only:
            for k in keys:
                self.na(k, "not asked for (--only)")
            return
        t0 = time.monotonic()
        seen = len(self.offsite)
        try:
            fn(*args)
            if len(self.offsite) > seen:
                for k in keys:
                    self.rows.pop(k, None)
                raise NA(f"a page asked for {self.offsite[seen][:80]} (off this machine): not a fair measurement")
        except NA as exc:
            for k in keys:
                if k not in self.rows:
                    self.na(k, str(exc))
        except Exception as exc:  # noqa: BLE001 - the benchmark reports, it does not crash
            log(f"{fn.__name__} failed:\n{traceback.format_exc()}")
            for k in keys:
                if k not in self.rows:
                    self.na(k, _short(exc))
        finally:
            for k in keys:
                if k not in self.rows:
                    self.na(k, "not measured")
            log(f"{fn.__name__}: {time.monotonic() - t0:.1f} s")


def _in_own_browser(pw, measure):
    """``measure`` in a Chromium of its own, launched when its group runs (``Bench.guarded``
    skips groups not asked for): what one group's ~40 pages leave behind (renderer processes
    winding down, caches, GC debt) is not measured in the next, and a group's figures do not
    depend on which groups ran first."""
    @functools.wraps(measure)  # guarded's log names the measure, not this wrapper
    def run(bench: Bench) -> None:
        bench.browser = chromium.launch(pw, [RESOLVER_RULE])
        try:
            measure(bench)
        finally:
            bench.browser.close()

    return run


# ------------------------------------------------------------------------------------ fixtures
def make_photo_12mp() -> bytes:
    """A 4000x3000 JPEG with photo-like content (fractal + gradient + noise), quality 90."""
    from PIL import Image

    size = (4000, 3000)
    r = Image.effect_mandelbrot(size, (-2.2, -1.2, 1.0, 1.2), 60)
    g = Image.linear_gradient("L").resize(size)
    b = Image.effect_noise(size, 40)
    out = io.BytesIO()
    Image.merge("RGB", (r, g, b)).save(out, "JPEG", quality=90)
    return out.getvalue()


def make_mask_12mp() -> bytes:
    """A painted mask as the editor exports it: RGBA PNG of the photo's size, alpha 0 where painted."""
    from PIL import Image, ImageDraw

    m = Image.new("RGBA", (4000, 3000), (0, 0, 0, 255))
    ImageDraw.Draw(m).ellipse((1400, 900, 2600, 2100), fill=(0, 0, 0, 0))
    out = io.BytesIO()
    m.save(out, "PNG")
    return out.getvalue()


def sandbox_png_1024(api_base: str, key: str) -> bytes:
    """One 1024x1024 PNG exactly as the sandbox sends it (the baseline fetches these bytes)."""
    import requests

    r = requests.post(f"{api_base}/images/generations", headers={"Authorization": f"Bearer {key}"},
                      json={"model": "gpt-image-1", "prompt": "bench baseline picture", "size": "1024x1024",
                            "n": 1}, timeout=60)
    r.raise_for_status()
    return base64.b64decode(r.json()["data"][0]["b64_json"])


@contextmanager
def served_site(bench: Bench):
    """Build the site once, add bench/pages as /bench/, serve it with the sandbox."""
    with tempfile.TemporaryDirectory(prefix="imagesynth-bench-") as tmp:
        site = Path(tmp) / "site"
        try:
            from imagesynth.build import build_site
        except Exception as exc:  # noqa: BLE001
            raise NA(f"no site builder ({_short(exc)})") from None
        t0 = time.monotonic()
        build_site(site, log=lambda *a, **k: None)
        log(f"site built in {time.monotonic() - t0:.1f} s: {site}")
        shutil.copytree(PAGES, site / "bench")
        _runtime_folder(site)
        _npm_stdlib(site / "bench" / "npm")
        _noscript_page(site)
        bench.site = site
        try:
            from serverfixture import running_server
        except Exception as exc:  # noqa: BLE001
            raise NA(f"no server fixture ({_short(exc)})") from None
        with running_server(site) as srv:
            bench.server = srv
            try:
                (site / "bench" / "img1024.png").write_bytes(sandbox_png_1024(srv.api_base, srv.key))
            except Exception as exc:  # noqa: BLE001
                log(f"no sandbox PNG ({_short(exc)})")
            (site / "bench" / "photo12mp.jpg").write_bytes(make_photo_12mp())
            (site / "bench" / "mask12mp.png").write_bytes(make_mask_12mp())
            yield srv


def _runtime_folder(site: Path) -> None:
    """The baseline pages name the runtime as the app's sources do (``../pyscript/``); the build
    serves it in a folder named by its version, as the app's page gets it (build/versions.py):
    the same files, cached the same way."""
    from imagesynth.build.versions import point_at_runtime, runtime_dir

    name = runtime_dir(site).name
    for page in (site / "bench").glob("*.*"):
        if page.suffix in (".html", ".js", ".json"):
            page.write_text(point_at_runtime(page.read_text(encoding="utf-8"), name), encoding="utf-8")


def _npm_stdlib(dest: Path) -> None:
    """Pyodide's python_stdlib.zip as npm publishes it (the build serves one with bytecode)."""
    try:
        from imagesynth.build import pins
        from imagesynth.build.assemble import default_cache, unpack_npm

        src = unpack_npm(pins.PYODIDE, default_cache(), lambda m: None) / "python_stdlib.zip"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / "python_stdlib.zip")
    except Exception as exc:  # noqa: BLE001 - the context rows become n/a
        log(f"no npm stdlib for the context rows ({_short(exc)})")


# Comments (they mention <script>), every script element and every preload; the page keeps its
# CSP <meta> and gets the first visit's class, which the page's inline script in <head> would set.
_SCRIPTS = re.compile(r"<!--.*?-->|<script\b[^>]*>.*?</script>|<link rel=\"(?:module)?preload\"[^>]*>", re.S)
NOSCRIPT_PAGE = "bench-noscript.html"


def _noscript_page(site: Path) -> None:
    """The app's own index.html with no script at all, beside it (its relative URLs resolve):
    what typing costs the page's HTML and CSS alone, without Python's start or PyScript."""
    index = site / "index.html"
    if index.is_file():
        html = _SCRIPTS.sub("", index.read_text(encoding="utf-8"))
        html = html.replace("<html lang=\"en\">", "<html lang=\"en\" class=\"first-run\">", 1)
        (site / NOSCRIPT_PAGE).write_text(html, encoding="utf-8")


def new_context(bench: Bench):
    """A fresh profile (cold HTTP cache), and a record of any request that would leave this machine.

    Not Playwright routing: a routed context has no HTTP cache (so a "warm" load would
    not be warm) and every request takes a round trip through this process. Requests
    off the machine are stopped by RESOLVER_RULE and noted here; a group
    that saw one is reported n/a (Bench.guarded), not measured.
    """
    ctx = bench.browser.new_context(viewport=VIEWPORT, service_workers="allow")
    ctx.add_init_script(INIT_SCRIPT)

    def note(request):
        url = request.url
        if not url.startswith(("data:", "blob:")) and urlsplit(url).hostname not in LOCAL_HOSTS:
            bench.offsite.append(url)

    ctx.on("request", note)
    return ctx


def new_page(ctx, bench: Bench):
    """A page of ``ctx``; with --latency, every request it makes waits that long more, as on a
    network rather than this machine's loopback (Chromium's own emulation, through CDP).

    On loopback a request is answered in a few ms, so files a page can only ask for one after
    another cost it little here, and a round trip each on a network: the first-visit script in
    <head>, as a file, held back the stylesheet and Python's start by one (bench/FINDINGS.md)."""
    page = ctx.new_page()
    if bench.latency:
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": bench.latency,
                                                      "downloadThroughput": -1, "uploadThroughput": -1})
    return page


def app_url(bench: Bench) -> str:
    return bench.server.url + "/"


def has_app(bench: Bench) -> bool:
    return bench.site is not None and (bench.site / "index.html").is_file()


# --------------------------------------------------------------------------- rows 1, 2 and 8
def _net_counter(ctx, page):
    cdp = ctx.new_cdp_session(page)
    state = {"bytes": 0, "n": 0, "by_url": {}, "urls": {}}

    def on_response(e):
        state["urls"][e["requestId"]] = e["response"]["url"]

    def on_finished(e):
        state["bytes"] += e["encodedDataLength"]
        state["n"] += 1
        url = state["urls"].get(e["requestId"], "?")
        state["by_url"][url] = state["by_url"].get(url, 0) + e["encodedDataLength"]

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    cdp.send("Network.enable")
    return state


def _type_first(page, timeout=30_000) -> tuple[float, float]:
    """Press a key again and again, as someone typing into the page as it loads, until one
    lands in #prompt (the pages autofocus it); returns (that input event's time, the prompt's
    first focus).

    Real key presses through Chrome's input path, not Playwright's locator actions: those
    wait until the element is "actionable" by polling at 0, 20, 50, 100, 100, 500 ms, so a box
    ready at 110 ms was typed into at ~170 (measured: bare page 91 ms that way, 73-76 by keys).
    A press is answered once the page's main thread has handled it, so one made while the page
    parses or lays out lands when a person's would; the loop's step is one press and one
    evaluate (2-4 ms on an idle page)."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        page.keyboard.press("a")
        got = page.evaluate("window.__bench && window.__bench.firstInput !== null"
                            " ? [window.__bench.firstInput, window.__bench.focus] : null")
        if got is not None:
            return got[0], got[1]
        if time.monotonic() > deadline:
            raise TimeoutError(f"no key reached #prompt in {timeout / 1000:.0f} s")


def _wait_ready(page, timeout=90_000) -> float:
    page.wait_for_function("window.__bench.ready !== null", timeout=timeout, polling=50)
    return page.evaluate("window.__bench.ready")


def _settle(page) -> None:
    """Wait for the network to go quiet (the rest of a cold load), at most 15 s."""
    try:
        page.wait_for_load_state("networkidle", timeout=15_000)
    except Exception:  # noqa: BLE001 - a page still fetching is measured all the same
        pass


SNAPSHOT_SETTLED = "['saved', 'skipped', 'failed'].includes(document.documentElement.dataset.snapshot)"


def _snapshot_settled(page, timeout=60_000) -> str:
    """Wait until the app's first visit has saved its snapshot of Python's start (or said why
    not: static/snapshot-save.js), so that no worker shares the CPU with what is measured
    next, and later visits start as a returning visitor's do. Returns the state."""
    try:
        page.wait_for_function(SNAPSHOT_SETTLED, timeout=timeout, polling=100)
    except Exception:  # noqa: BLE001 - a site without the snapshot (no key in the page) never says
        pass
    return page.evaluate("document.documentElement.dataset.snapshot || 'none'")


# A warm load is a returning visitor's, who comes back once the first visit's work in the
# background is done: Chrome caches the wasm's optimised code only after its tier-up, seconds
# into a page's life, and the app saves its snapshot once idle. The pages of a run, baselines
# too, are loaded again only this long after the last of their cold loads was ready.
WARM_AFTER_S = 8.0


def _wait_since(page, ready_ms: float, seconds: float) -> None:
    left = seconds * 1000 - (page.evaluate("performance.now()") - ready_ms)
    if left > 0:
        page.wait_for_timeout(left)


# Chromium caches a script's compiled code when it is loaded a second time and uses it from
# the third (its "warm" and "hot" runs); wasm likewise once its tier-up is done. The app's first
# visit loads Pyodide's scripts twice (its snapshot is made by a second Pyodide, in a worker),
# so its second visit would be hot where a bare page's is only warm: every page's first load
# after its cold one only primes those caches, and the warm figures are the loads after it.
WARM_REPS = 3  # warm loads of each page per run, interleaved with the other pages'


# The app's page with no snapshot of Python's start to use: neither the note in localStorage
# that says one is saved (static/snapshot-save.js) nor the snapshot itself.
FORGET_SNAPSHOT_JS = """async () => {
  for (const k of Object.keys(localStorage)) if (k.startsWith('imagesynth.snapshot ')) localStorage.removeItem(k);
  await caches.delete('imagesynth-runtime');
}"""


TYPING_REPS = 3


def _focus_note(focus: dict) -> str:
    """When each page's first frame focused the prompt (median ms), measured with no driver in it."""
    got = {k: median(v) for k, v in focus.items() if v and None not in v}
    return "prompt focused (first frame) at " + ", ".join(f"{k} {v:.0f} ms" for k, v in got.items())


def measure_boot(bench: Bench):
    """Rows 1, 2, 8: typing (vs static page), Python ready cold/warm (vs loadPyodide), first-load bytes."""
    if not has_app(bench):
        raise NA("no app page in the built site")
    base = bench.server.url
    typing, typing_base, typing_noscript = [], [], []
    noscript = (bench.site / NOSCRIPT_PAGE).is_file()
    ready_cold, ready_warm, base_cold, base_warm = [], [], [], []
    warm_nosnap, base_nosnap, snap_states = [], [], []
    warm_after = 2.0 if bench.quick else WARM_AFTER_S
    warm_reps = 1 if bench.quick else WARM_REPS
    npm = (bench.site / "bench" / "npm" / "python_stdlib.zip").is_file()
    npm_cold, npm_warm, pyscript_cold, pyscript_warm = [], [], [], []
    bare = {"pyodide": ("/bench/pyodide.html", base_cold, base_warm),
            "npm": ("/bench/pyodide.html?stdlib=npm", npm_cold, npm_warm),
            "pyscript": ("/bench/pyscript.html", pyscript_cold, pyscript_warm)}
    load_bytes, base_bytes = [], []
    breakdown = {}
    # Typing varies by ±40 ms from load to load: each run types into every page TYPING_REPS
    # times (the app once in its cold load, measured below, the rest in loads only typed into).
    reps = 1 if bench.quick else TYPING_REPS
    focus = {"static": [], "noscript": [], "app": []}  # the prompt's autofocus: the first frame, no driver in it
    typed_pages = {"static": ("/bench/static.html", typing_base, focus["static"]),
                   "noscript": ("/" + NOSCRIPT_PAGE, typing_noscript, focus["noscript"]),
                   "app-typing": ("/", typing, focus["app"])}
    for i in range(bench.runs):
        order = (["static"] * reps + ["app-typing"] * (reps - 1) + ["app", "pyodide", "pyscript"]
                 + (["npm"] if npm else [])
                 + (["noscript"] * reps if noscript else []))
        order = order if i % 2 == 0 else order[::-1]
        kept = []  # (which, ctx, page, url, warm samples): loaded again once every cold load is done
        try:
            for which in order:
                ctx = new_context(bench)
                page = new_page(ctx, bench)
                if which in typed_pages:
                    try:
                        path, samples, focused = typed_pages[which]
                        _net_counter(ctx, page)  # the same instrumentation as the app's load (CDP Network)
                        page.goto(base + path, wait_until="commit")
                        typed, focus_at = _type_first(page)
                        samples.append(typed)
                        focused.append(focus_at)
                        if which == "app-typing":  # not closed mid-start: the next load would share the CPU
                            _wait_ready(page)
                            _settle(page)
                    finally:
                        ctx.close()
                    continue
                url, warm = (base + "/", ready_warm) if which == "app" else (base + bare[which][0], bare[which][2])
                kept.append((which, ctx, page, url, warm))
                net = _net_counter(ctx, page)
                page.goto(url, wait_until="commit")
                if which == "app":
                    typed, focus_at = _type_first(page)
                    typing.append(typed)
                    focus["app"].append(focus_at)
                (ready_cold if which == "app" else bare[which][1]).append(_wait_ready(page))
                _settle(page)
                if which == "app":
                    load_bytes.append(net["bytes"])
                    breakdown = dict(net["by_url"])
                    snap_states.append(_snapshot_settled(page))
                elif which == "pyodide":
                    base_bytes.append(net["bytes"])
            # Warm: later loads of every page, interleaved, so that the machine's drift meets all
            # alike; the first of each only primes Chromium's code caches (WARM_REPS says why).
            last_page = kept[-1][2]
            _wait_since(last_page, last_page.evaluate("window.__bench.ready"), warm_after)
            for _which, _ctx, page, url, _warm in kept:
                page.goto(url, wait_until="commit")
                _wait_ready(page)
            for rep in range(warm_reps):
                for which, _ctx, page, url, warm in (kept if rep % 2 == 0 else kept[::-1]):
                    page.goto(url, wait_until="commit")
                    warm.append(_wait_ready(page))
                    if which == "app":
                        snap_states[-1] += "/" + str(page.get_attribute("html", "data-python-start"))
            # The app as a returning visit before the first one saved a snapshot, beside the bare page.
            app_page = next(page for which, _c, page, _u, _w in kept if which == "app")
            app_page.evaluate(FORGET_SNAPSHOT_JS)
            bare_page = next(page for which, _c, page, _u, _w in kept if which == "pyodide")
            for rep in range(warm_reps):
                for which, page, url, samples in ([("app", app_page, base + "/", warm_nosnap),
                                                   ("pyodide", bare_page, base + bare["pyodide"][0], base_nosnap)]
                                                  [::1 if rep % 2 == 0 else -1]):
                    page.goto(url, wait_until="commit")
                    samples.append(_wait_ready(page))
                    if which == "app":
                        snap_states[-1] += "/" + str(page.get_attribute("html", "data-python-start"))
        finally:
            for _which, ctx, *_rest in kept:
                ctx.close()
        log(f"boot run {i + 1}: typing {typing[-1]:.0f}/{typing_base[-1]:.0f} ms, ready cold "
            f"{ready_cold[-1]:.0f}/{base_cold[-1]:.0f}, warm {ready_warm[-1]:.0f}/{base_warm[-1]:.0f}")
    bench.put("typing", median(typing), median(typing_base), ratio_limit=1.5, samples=typing,
              baseline_samples=typing_base,
              note=f"baseline: bare static page with a textarea; {_focus_note(focus)}")
    if noscript:
        bench.put("typing_noscript", median(typing), median(typing_noscript), samples=typing,
                  baseline_samples=typing_noscript,
                  note=f"baseline: the app's index.html with every script and preload taken out "
                       f"({NOSCRIPT_PAGE}): what Python's start and PyScript cost typing; the bare "
                       f"textarea page typed in {median(typing_base):.0f} ms, this one in "
                       f"{median(typing_noscript):.0f} ms")
    else:
        bench.na("typing_noscript", "no index.html in the built site")
    bench.put("ready_cold", median(ready_cold), median(base_cold), ratio_limit=1.15, samples=ready_cold,
              baseline_samples=base_cold, note="app: body[data-ready]; baseline: bare loadPyodide() page")
    bench.put("ready_warm", median(ready_warm), median(base_warm), ratio_limit=1.15, samples=ready_warm,
              baseline_samples=base_warm,
              note=f"{warm_reps} warm loads of each page per run, interleaved, after one that primes "
                   f"Chromium's code caches, {warm_after:.0f} s after the cold loads (and after the "
                   "app's first visit saved its snapshot of Python's start); app: snapshot state, then "
                   f"how Python started in each warm load and in each without the snapshot: {', '.join(snap_states)}")
    bench.put("ready_warm_nosnap", median(warm_nosnap), median(base_nosnap), samples=warm_nosnap,
              baseline_samples=base_nosnap,
              note="the app's warm loads once its snapshot and the note of it are removed (a returning "
                   "visit before the first one saved a snapshot, or where none can be), interleaved with "
                   "more loads of the bare page")
    if npm:
        note = ("baseline: the bare page with the stdlib as npm ships it (sources only); the site's "
                "stdlib has bytecode for its start-up modules, which the row above's baseline shares")
        bench.put("ready_cold_npm", median(ready_cold), median(npm_cold), samples=ready_cold,
                  baseline_samples=npm_cold, note=note)
        bench.put("ready_warm_npm", median(ready_warm), median(npm_warm), samples=ready_warm,
                  baseline_samples=npm_warm, note="as above, warm")
    else:
        for k in ("ready_cold_npm", "ready_warm_npm"):
            bench.na(k, "no npm python_stdlib.zip in the build cache")
    note = ("baseline: bench/pages/pyscript.html, PyScript running one line of Python from the same "
            "files, plugins off as in the app, none of the app's own start-up work or tricks: what "
            f"the framework costs by itself (it is {median(pyscript_cold) / median(base_cold):.2f}x the "
            f"bare loadPyodide() page cold, {median(pyscript_warm) / median(base_warm):.2f}x warm)")
    bench.put("ready_cold_pyscript", median(ready_cold), median(pyscript_cold), samples=ready_cold,
              baseline_samples=pyscript_cold, note=note)
    bench.put("ready_warm_pyscript", median(ready_warm), median(pyscript_warm), samples=ready_warm,
              baseline_samples=pyscript_warm, note="as above, warm")
    top = sorted(breakdown.items(), key=lambda kv: -kv[1])[:8]
    bench.put("first_load_bytes", median(load_bytes), median(base_bytes), unit="bytes", limit=8e6,
              samples=load_bytes, baseline_samples=base_bytes,
              note="encoded bytes until ready + network idle; baseline: the loadPyodide() page",
              extra={"largest": [[urlsplit(u).path, b] for u, b in top]})


# ------------------------------------------------------------------------------ rows 3, 4, 5
def _connect_sandbox(page, base: str) -> None:
    page.goto(base + "/", wait_until="commit")
    _wait_ready(page)
    _snapshot_settled(page)  # the first visit's work done: nothing of it runs beside the rows
    page.evaluate("localStorage.setItem('imagesynth.connection', JSON.stringify({kind: 'sandbox'}))")
    page.goto(base + "/", wait_until="commit")
    _wait_ready(page)
    try:
        page.wait_for_function("window.__bench.connected !== null", timeout=30_000, polling=50)
    except Exception:  # noqa: BLE001
        raise NA("the app did not connect to the sandbox (body[data-connected=1] never set)") from None


def _set_form(page, prompt: str, n: int, model: str | None, stream: bool | None = None) -> str:
    page.fill("#prompt", prompt)
    page.fill("#n", str(n))
    page.select_option("#size", "Large")
    if model:
        options = page.eval_on_selector_all("#model option", "os => os.map(o => o.value)")
        if model not in options:
            raise NA(f"the app offers no model {model} (has {', '.join(options)})")
        page.select_option("#model", model)
    if stream is not None and page.locator("#param-stream").count():
        page.locator("#param-stream").set_checked(stream)
    return page.eval_on_selector("#model", "s => s.value")


def _overhead_phases(page) -> str:
    """One more generation with the app's steps wrapped: 'step start-end' in ms after the last byte."""
    try:
        page.evaluate(INJECT_PY_JS, PY_STAMPS)
        page.wait_for_function("document.body.hasAttribute('data-bench-stamps')", timeout=20_000, polling=50)
        page.fill("#prompt", "bench client overhead phases")
        r = page.evaluate(GENERATE_SHOWN_JS, {"timeout": 60_000})
        stamps = page.evaluate("window.__benchStamps.map(a => [...a])")
    except Exception as exc:  # noqa: BLE001
        return f"unavailable ({_short(exc)})"
    end = r["responseEnd"]
    open_: dict[str, float] = {}
    parts = []
    for name, edge, t in stamps:
        if edge == 0:
            open_[name] = t
        elif name in open_:
            parts.append(f"{name} {open_.pop(name) - end:.0f}..{t - end:.0f}")
    parts.append(f"shown {r['shown'] - end:.0f}")
    return ", ".join(parts)


def _inject_probe(page) -> None:
    page.evaluate(INJECT_PY_JS, PY_PROBE)
    try:
        page.wait_for_function("document.body.hasAttribute('data-bench-probe')", timeout=20_000, polling=50)
    except Exception:  # noqa: BLE001
        raise NA("a <script type=\"py\"> added to the app page did not run") from None


def measure_app(bench: Bench):
    """Rows 3 (client overhead), 4 in the page (n=4 vs one), 5 (12 MP edit prepared in the page)."""
    if not has_app(bench):
        raise NA("no app page in the built site")
    base = bench.server.url
    ctx = new_context(bench)
    try:
        page = new_page(ctx, bench)
        page.set_default_timeout(60_000)
        _connect_sandbox(page, base)

        # -- row 3: baseline page first, then the app, alternating by run
        # the baseline page in its own context (window): a second tab in the app's context would
        # share its renderer and be hidden behind it
        bctx = new_context(bench)
        bpage = new_page(bctx, bench)
        bpage.goto(base + "/bench/fetchimg.html")
        have_png = (bench.site / "bench" / "img1024.png").is_file()
        app_ms, base_ms, marks = [], [], []
        try:
            model = _set_form(page, "bench client overhead", 1, None, stream=False)
            page.evaluate(GENERATE_SHOWN_JS, {"timeout": 60_000})  # warm-up (first run compiles code paths)
            for i in range((2 if bench.quick else bench.runs) + 1):
                if have_png:
                    bpage.bring_to_front()
                    b = bpage.evaluate("(u) => benchFetch(u)", f"{base}/bench/img1024.png?{i}")
                    if i:
                        base_ms.append(b["shown"] - b["responseEnd"])
                page.bring_to_front()
                page.fill("#prompt", f"bench client overhead {i}")
                r = page.evaluate(GENERATE_SHOWN_JS, {"timeout": 60_000})
                if i and r["responseEnd"] is not None:
                    app_ms.append(r["shown"] - r["responseEnd"])
                    marks.append(r["marks"])
            phases = _overhead_phases(page)
            v = median(app_ms)
            bench.put("client_overhead", v, median(base_ms), limit=30, ratio_limit=3, samples=app_ms,
                      baseline_samples=base_ms,
                      note=f"model {model}, stream off; Resource Timing responseEnd -> new gallery <img> "
                           f"decoded; baseline: fetch->blob->img of the sandbox's PNG; where the time goes "
                           f"(one extra run, ms after last byte): {phases}",
                      extra={"marks": marks[-1] if marks else [], "phases": phases})
        except NA as exc:
            bench.na("client_overhead", str(exc))
        finally:
            bctx.close()
        page.bring_to_front()

        # -- row 4 in the page
        try:
            one, four = [], []
            for i in range(max(1, bench.runs if not bench.quick else 1)):
                _set_form(page, f"bench n4 page {i} [[sandbox:slow:2]]", 1, ONE_PER_REQUEST_MODEL)
                r1 = page.evaluate(GENERATE_DONE_JS, {"timeout": 120_000})
                _set_form(page, f"bench n4 page {i} [[sandbox:slow:2]]", 4, ONE_PER_REQUEST_MODEL)
                r4 = page.evaluate(GENERATE_DONE_JS, {"timeout": 120_000})
                if r1["state"] != "done" or r4["state"] != "done":
                    raise NA(f"a run ended {r1['state']}/{r4['state']} ({r4['rows']})")
                one.append(r1["ms"])
                four.append(r4["ms"])
            bench.put("n4_page", median(four), median(one), ratio_limit=1.3, samples=four, baseline_samples=one,
                      note="click Generate -> run card done; baseline: n=1, same prompt and model")
        except NA as exc:
            bench.na("n4_page", str(exc))

        # -- row 5: the app's own edit flow, as a user meets it: a 12 MP JPEG as the reference, a
        #    stroke painted in the editor, click "Edit image" -> the edits request leaves
        try:
            _edit_flow(page, base, bench)
        except NA as exc:
            bench.na("prepare_page", str(exc))
    finally:
        ctx.close()


# Click the run button; resolve with ms until the edits request starts (Resource Timing).
EDIT_SENT_JS = r"""
async ({timeout}) => {
  const n0 = performance.getEntriesByType('resource').length;
  const runs0 = document.querySelectorAll('#runs .run').length;
  const t0 = performance.now();
  document.getElementById('generate').click();
  for (;;) {
    await new Promise((r) => setTimeout(r, 5));
    const e = performance.getEntriesByType('resource').slice(n0).find((e) => e.name.includes('/v1/images/edits'));
    if (e) return e.startTime - t0;
    const run = document.querySelectorAll('#runs .run').length > runs0 ? document.querySelector('#runs .run') : null;
    if (run && run.getAttribute('data-state') === 'failed') throw new Error('the edit failed: ' + run.innerText.slice(0, 300));
    if (performance.now() - t0 > timeout) {
      throw new Error('no edits request; newest run: ' + (run ? run.getAttribute('data-state') + ': ' + run.innerText.slice(0, 300) : 'none') +
                      '; alerts: ' + Array.from(document.querySelectorAll('.alert')).map((a) => a.textContent).join(' | ').slice(0, 600));
    }
  }
}
"""


def _edit_flow(page, base: str, bench: Bench) -> None:
    """Row 5, with prepare_edit alone from bytes in its note."""
    _set_form(page, "bench edit flow: a balloon", 1, EDIT_MODEL, stream=False)
    page.set_input_files("#reference-file", files=[{
        "name": "photo12mp.jpg", "mimeType": "image/jpeg",
        "buffer": (bench.site / "bench" / "photo12mp.jpg").read_bytes()}])
    page.wait_for_selector("body[data-reference]", timeout=60_000)
    page.locator("label[for=task-edit]").click()
    page.wait_for_selector("#inpaint[data-loaded='1'] .me-viewport", timeout=60_000)
    page.fill("#prompt", "bench edit flow: a balloon")
    # a stroke across the middle of the editor (the picture is fitted into it)
    page.locator("#inpaint .me-viewport").scroll_into_view_if_needed()
    box = page.locator("#inpaint .me-viewport").bounding_box()
    if not box:
        raise NA("the editor is not on screen")
    y = box["y"] + box["height"] * 0.5
    page.mouse.move(box["x"] + box["width"] * 0.35, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.65, y, steps=12)
    page.mouse.up()
    _inject_probe(page)
    # the page makes the upload while the user paints (prepare.warm_upload); a user paints for
    # longer than it takes, so the clicks come after it, as theirs do
    page.wait_for_function("window.__benchUploadReady()", timeout=60_000, polling=50)
    idle = "!document.querySelector('#runs .run[data-state=running], #runs .run[data-state=preparing]')"
    runs = (1 if bench.quick else max(3, bench.runs)) + 1
    times = []
    for i in range(runs):
        times.append(page.evaluate(EDIT_SENT_JS, {"timeout": 60_000}))
        page.wait_for_function(idle, timeout=120_000)
    times = times[1:]
    cold = []  # context: each click making its own upload, as with no time to paint
    for i in range(runs):
        page.evaluate("window.__benchForgetUpload()")
        cold.append(page.evaluate(EDIT_SENT_JS, {"timeout": 60_000}))
        page.wait_for_function(idle, timeout=120_000)
    cold = cold[1:]
    res = json.loads(page.evaluate(
        "async (a) => await window.__benchPrepare(a[0], a[1], a[2], a[3])",
        [base + "/bench/photo12mp.jpg", base + "/bench/mask12mp.png", 3, EDIT_MODEL]))
    alone = median([t * 1000 for t in res["times"][1:]])
    bench.put(
        "prepare_page", median(times), None, limit=500, samples=times,
        note=f"app page, {res['imaging']}: 4000x3000 JPEG as the reference, a stroke painted in the editor, "
             f"click Edit image -> edits request starts ({EDIT_MODEL}, upload {res['upload'][0]}x{res['upload'][1]}); "
             f"upload made while painting (warm_upload); first run dropped; with no upload made ahead: "
             f"{median(cold):.0f} ms; prepare_edit alone from JPEG + mask PNG bytes: {alone:.0f} ms",
        extra={"prepare_edit_from_bytes_ms": alone, "no_head_start_ms": median(cold), "no_head_start_samples": cold,
               **{k: res[k] for k in ("upload", "image_bytes", "mask_bytes")}})


# ------------------------------------------------------------------------------------- row 9
POPULATE_JS = r"""
async ({n, url}) => {
  const idb = await import(new URL('static/idb.js', location.href).href);
  const blob = await (await fetch(url)).blob();
  const t = Date.now() - n * 1000;
  for (let i = 0; i < n; i++) {
    const prompt = 'bench history ' + i;
    await idb.putImage({created: t + i * 1000, prompt, mime: 'image/png', width: 1024, height: 1024,
                        params: JSON.stringify({prompt, model: 'gpt-image-1', size: '1024x1024'}),
                        size: blob.size, blob: new Blob([blob], {type: 'image/png'})});
  }
  return await idb.countImages();
}
"""


def _renderer_rss(bench: Bench) -> int | None:
    """Sum of VmRSS of the browser's renderer processes (best effort, Linux)."""
    try:
        cdp = bench.browser.new_browser_cdp_session()
        info = cdp.send("SystemInfo.getProcessInfo")
        total = 0
        for proc in info.get("processInfo", []):
            if proc.get("type") != "renderer":
                continue
            status = Path(f"/proc/{proc['id']}/status").read_text()
            kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            total += kb * 1024
        cdp.detach()
        return total or None
    except Exception:  # noqa: BLE001
        return None


def measure_memory(bench: Bench):
    if not has_app(bench):
        raise NA("no app page in the built site")
    if not (bench.site / "bench" / "img1024.png").is_file():
        raise NA("no 1024^2 PNG from the sandbox")
    base = bench.server.url
    ctx = new_context(bench)
    try:
        page = new_page(ctx, bench)
        page.set_default_timeout(90_000)
        page.goto(base + "/", wait_until="commit")
        _wait_ready(page)
        _snapshot_settled(page)  # as a returning visitor's page: started from the snapshot
        count = page.evaluate(POPULATE_JS, {"n": 200, "url": base + "/bench/img1024.png"})
        page.goto(base + "/", wait_until="commit")
        _wait_ready(page)
        try:
            page.wait_for_function("document.querySelectorAll('#gallery li').length >= 1", timeout=30_000)
        except Exception:  # noqa: BLE001
            pass
        page.wait_for_timeout(1500)
        # tiles are lazy: wait for the images in the viewport (the others are not loaded, by design)
        page.wait_for_function(
            "[...document.querySelectorAll('#gallery img')].every(i => i.complete || "
            "i.getBoundingClientRect().top > innerHeight + 600)", timeout=60_000)
        loaded = page.evaluate("[...document.querySelectorAll('#gallery img')].filter(i => i.complete && "
                               "i.naturalWidth > 0).length")
        tiles = page.evaluate("document.querySelectorAll('#gallery li').length")
        cdp = ctx.new_cdp_session(page)
        cdp.send("HeapProfiler.collectGarbage")
        cdp.send("Performance.enable")
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        heap = int(metrics.get("JSHeapUsedSize", 0))
        try:
            usage = cdp.send("Runtime.getHeapUsage")
        except Exception:  # noqa: BLE001
            usage = {}
        wasm = -1
        try:
            _inject_probe(page)
            wasm = int(page.evaluate("window.__benchWasm()"))
        except NA:
            pass
        rss = _renderer_rss(bench)
        if wasm < 0:
            raise NA(f"no wasm memory size (JS heap {heap / 1e6:.0f} MB)")
        total = heap + wasm
        bench.put("memory_200", total, None, unit="bytes", limit=300e6, samples=[total],
                  note=f"JSHeapUsedSize {heap / 1e6:.0f} MB + wasm {wasm / 1e6:.0f} MB after GC; {count} images "
                       f"stored, {tiles} tiles rendered, {loaded} images loaded (lazy); renderer RSS "
                       f"{'%.0f MB' % (rss / 1e6) if rss else 'n/a'}",
                  extra={"js_heap": heap, "wasm": wasm, "renderer_rss": rss, "tiles": tiles, "loaded": loaded, "stored": count,
                         "heap_usage": usage})
    finally:
        ctx.close()


# ------------------------------------------------------------------------------ CPython rows
def measure_n4_cpython(bench: Bench):
    try:
        from imagesynth import image_synthesize
    except Exception as exc:  # noqa: BLE001
        raise NA(f"no image_synthesize ({_short(exc)})") from None
    srv = bench.server

    def once(n: int, i: int) -> float:
        t0 = time.perf_counter()
        imgs = image_synthesize(f"bench n4 cpython {i} [[sandbox:slow:2]]", n, model=ONE_PER_REQUEST_MODEL,
                                image_size="Large", base_url=srv.api_base, authentication={"APIKey": srv.key})
        assert len(imgs) == n
        return (time.perf_counter() - t0) * 1000

    one, four = [], []
    for i in range(max(1, bench.runs if not bench.quick else 1)):
        one.append(once(1, i))
        four.append(once(4, i))
    bench.put("n4_cpython", median(four), median(one), ratio_limit=1.3, samples=four, baseline_samples=one,
              note="image_synthesize against the sandbox; baseline: n=1, same prompt and model")


def measure_prepare_pillow(bench: Bench):
    try:
        from imagesynth.imaging.pillow import PillowImaging
        from imagesynth.models import profile_for
        from imagesynth.prepare import prepare_edit
    except Exception as exc:  # noqa: BLE001
        raise NA(f"no Pillow imaging ({_short(exc)})") from None
    photo, mask = make_photo_12mp(), make_mask_12mp()
    imaging, profile = PillowImaging(), profile_for(EDIT_MODEL)
    times = []
    p = None
    for _ in range((1 if bench.quick else max(3, bench.runs)) + 1):
        t0 = time.perf_counter()
        p = asyncio.run(prepare_edit(imaging, profile, photo, mask))
        times.append((time.perf_counter() - t0) * 1000)
    times = times[1:]
    mask_ms, inflated = _mask_decode_alone(mask, 1 if bench.quick else 3)
    finish_ms, result = _finish_edit_result(imaging, p)
    bench.put("prepare_pillow", median(times), None, limit=300, samples=times,
              note=f"PillowImaging, {EDIT_MODEL} profile, 4000x3000 JPEG ({len(photo) / 1e6:.1f} MB) + painted "
                   f"mask -> upload {p.upload_size[0]}x{p.upload_size[1]}; the mask's PNG decode alone "
                   f"{mask_ms:.0f} ms ({inflated}), the photo's decode runs beside it. After the "
                   f"answer (no target): finish_image {finish_ms:.0f} ms, once ({result})",
              extra={"mask_decode_ms": mask_ms, "mask_inflate": inflated, "finish_ms": finish_ms})


def _finish_edit_result(imaging, prepared) -> tuple[float, str]:
    """What the user waits for after the model answers the same edit: the answer mapped back to
    4000x3000, the photo pasted back around it, and the PNG written (most of it, on this VM)."""
    from PIL import Image

    from imagesynth.finish import finish_image
    from imagesynth.sizes import SizePlan

    answer = io.BytesIO()
    Image.new("RGB", prepared.upload_size, (40, 160, 90)).save(answer, "PNG")
    t0 = time.perf_counter()
    done = asyncio.run(finish_image(imaging, answer.getvalue(), plan=SizePlan(None, "auto", None), params={},
                                    prepared=prepared))
    ms = (time.perf_counter() - t0) * 1000
    kind = {2: "RGB", 6: "RGBA"}.get(done.data[25], "?") if done.data[:4] == b"\x89PNG" else done.mime
    return ms, f"{done.width}x{done.height} {kind} PNG, {len(done.data) / 1e6:.1f} MB"


def _mask_decode_alone(mask: bytes, runs: int) -> tuple[float, str]:
    """The part of the Pillow row no code of ours can shorten: inflating the 12 MP mask (mostly
    zeros once filtered) runs at the speed of the zlib Pillow loads. Pillow 13's manylinux_2_28
    wheel is built against zlib-ng's headers but needs the system's libz.so.1, so on Debian it is
    zlib 1.2.13: ~210 ms for this mask on a 2-core EPYC, where zlib-ng (python-zlib-ng) takes ~50."""
    from PIL import Image, features

    times, size = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        im = Image.open(io.BytesIO(mask))
        im.load()
        times.append((time.perf_counter() - t0) * 1000)
        size = len(im.getbands()) * im.width * im.height
    try:
        built = features.version_feature("zlib_ng")
    except ValueError:  # a Pillow before 11.1 has no such feature
        built = None
    name = f"{features.version('zlib')} loaded" + (f", built for zlib-ng {built}" if built else "")
    return median(times), f"{size / 1e6:.0f} MB inflated by Pillow's zlib: {name}"


def measure_painting(bench: Bench):
    try:
        import editor_bench
    except Exception as exc:  # noqa: BLE001
        raise NA(f"no bench/editor_bench.py ({_short(exc)})") from None
    moves = 40 if bench.quick else 120
    res = editor_bench.run(moves, 1 if bench.quick else bench.runs)
    paint = res.get("paint") or []
    if not paint:
        raise NA("editor bench returned no paint rows")
    by_brush: dict[int, list[dict]] = {}
    for r in paint:
        by_brush.setdefault(r["brush"], []).append(r)
    p95 = lambda rs, k: median([r[k]["p95"] for r in rs])  # noqa: E731 - median over runs
    brush, runs = max(by_brush.items(), key=lambda kv: p95(kv[1], "latency"))
    bench.put("painting", p95(runs, "latency"), p95(runs, "baseline"), limit=16,
              samples=[r["latency"]["p95"] for r in runs], baseline_samples=[r["baseline"]["p95"] for r in runs],
              note=f"bench/editor_bench.py, {moves} mouse moves by CDP input (frame-aligned like a real mouse), "
                   f"worst brush ({brush} px): pointermove dispatch -> end of the frame showing the paint, p95; "
                   f"baseline: a plain element's pointermove -> end of that frame. From the input's timestamp "
                   f"(adds the wait for the next frame): {p95(runs, 'fromInput'):.1f} ms vs "
                   f"{p95(runs, 'baselineFromInput'):.1f} ms for the plain element; stamping p95 "
                   f"{p95(runs, 'work'):.1f} ms",
              extra={"editor_bench": res})


# ------------------------------------------------------------------------------------ output
def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "bytes":
        return f"{v / 1e6:.2f} MB"
    if v >= 100:
        return f"{v:.0f} ms"
    return f"{v:.1f} ms"


def table(bench: Bench, meta: dict) -> str:
    w = max(len(f) for _, f, _ in ROWS)
    lines = [f"imagesynth benchmark  {meta['when']}  {meta['machine']}  runs={meta['runs']}"
             f"{'  (quick)' if meta['quick'] else ''}"
             f"{'  latency=%g ms' % meta['latency_ms'] if meta.get('latency_ms') else ''}",
             f"{'figure':<{w}}  {'median':>10}  {'baseline':>10}  {'ratio':>6}  {'target':<18}  result",
             "-" * (w + 64)]
    for key, label, target in ROWS:
        r = bench.rows.get(key) or {"status": "n/a", "note": "not run"}
        if r["status"] == "n/a":
            lines.append(f"{label:<{w}}  {'':>10}  {'':>10}  {'':>6}  {target:<18}  n/a ({r['note']})")
            continue
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-"
        lines.append(f"{label:<{w}}  {fmt(r['value'], r['unit']):>10}  {fmt(r['baseline'], r['unit']):>10}  "
                     f"{ratio:>6}  {target:<18}  {r['status']}")
    lines.append("")
    lines.append("notes:")
    for key, label, _ in ROWS:
        r = bench.rows.get(key)
        if r and r["status"] != "n/a" and r.get("note"):
            lines.append(f"  {label}: {r['note']}")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()} ({os.cpu_count()} cores, {cpu}, Python {platform.python_version()})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per figure (median is reported)")
    ap.add_argument("--json", type=Path, default=None, help="also write the table as JSON here")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions inside rows (for tests; < 2 min)")
    ap.add_argument("--latency", type=float, default=0.0, metavar="MS",
                    help="add MS to every request the pages make, as on a network (default 0: loopback)")
    ap.add_argument("--only", default="", help=f"comma-separated groups to run: {', '.join(GROUPS)} "
                                               "(default: all; the others print n/a)")
    args = ap.parse_args(argv)
    only = {g.strip() for g in args.only.split(",") if g.strip()}
    if only - set(GROUPS):
        ap.error(f"unknown group(s) for --only: {', '.join(sorted(only - set(GROUPS)))}; "
                 f"choose from {', '.join(GROUPS)}")
    runs = max(1, args.runs)
    bench = Bench(runs, args.quick)
    bench.only = only
    bench.latency = max(0.0, args.latency)
    started = time.monotonic()
    browser_keys = GROUPS["boot"] + GROUPS["app"] + GROUPS["memory"]

    bench.guarded("pillow", measure_prepare_pillow, bench)
    bench.guarded("painting", measure_painting, bench) if Path(CHROMIUM).exists() else \
        bench.na("painting", f"no Chromium at {CHROMIUM}")
    with ExitStack() as stack:
        try:
            stack.enter_context(served_site(bench))
        except NA as exc:
            for k in browser_keys + GROUPS["cpython"]:
                bench.na(k, str(exc))
        except Exception as exc:  # noqa: BLE001
            log(traceback.format_exc())
            for k in browser_keys + GROUPS["cpython"]:
                bench.na(k, f"site/server: {_short(exc)}")
        if bench.server is not None:
            bench.guarded("cpython", measure_n4_cpython, bench)
            if not Path(CHROMIUM).exists():
                for k in browser_keys:
                    bench.na(k, f"no Chromium at {CHROMIUM}")
            else:
                try:
                    from playwright.sync_api import sync_playwright
                except Exception as exc:  # noqa: BLE001
                    for k in browser_keys:
                        bench.na(k, f"no playwright ({_short(exc)})")
                else:
                    with sync_playwright() as pw:
                        for group, measure in (("boot", measure_boot), ("app", measure_app),
                                               ("memory", measure_memory)):
                            bench.guarded(group, _in_own_browser(pw, measure), bench)
    meta = {"when": time.strftime("%Y-%m-%d %H:%M", time.localtime()), "machine": machine(), "runs": runs,
            "quick": args.quick, "latency_ms": bench.latency, "seconds": round(time.monotonic() - started, 1),
            "chromium": CHROMIUM}
    print(table(bench, meta))
    if args.json:
        doc = {"meta": meta, "rows": {k: bench.rows.get(k) for k, _, _ in ROWS}}
        args.json.write_text(json.dumps(doc, indent=2, default=str))
        log(f"wrote {args.json}")
    log(f"total {meta['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
