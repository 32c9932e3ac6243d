"""Mask editor benchmark rows (figures printed, not asserted).

  .venv/bin/python bench/editor_bench.py [--json] [--moves N] [--runs N]

In headless Chromium (/usr/bin/chromium), on the standalone editor page:
  * paint latency on a 2048² image: the mouse is moved by Chrome's own input
    path (CDP Input.dispatchMouseEvent, what Playwright's mouse does), at
    random moments, with the button down; for each pointermove the editor
    receives, the time from its dispatch to the end of the frame that shows
    the new paint (the 'render' frame, then a MessageChannel task, which runs
    after the frame); p50/p95 over N moves, for a small and a large brush.
    Chrome delivers pointer moves aligned to frames, just before
    requestAnimationFrame, as it does for a real mouse or pen;
  * the same from the event's timeStamp (when the browser took the input):
    this adds the wait for the next frame, up to one frame at 60 Hz;
  * baseline in the same run: the same input over a plain element whose
    pointermove handler only waits for the next frame to end;
  * the JS work per painted frame (stamping), p50/p95;
  * exportMask() on a 12-megapixel (4000×3000) image, with canvas.toBlob() of
    the same image as a baseline.
Times drift between machines: read them as ratios to the baselines.

Synthetic PointerEvents dispatched from script (what this bench did first) are
not frame-aligned: each waited for the next frame like an empty
requestAnimationFrame, whose p95 alone is ~16 ms, so that figure measured the
frame clock, not the editor.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import json
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "playwright") not in sys.path:
    sys.path.insert(0, str(ROOT / "playwright"))
import chromium  # noqa: E402  (playwright/chromium.py: the switches the browser tests use too)

CHROMIUM = chromium.CHROMIUM
SERVED = ("/static/", "/playwright/fixtures/")


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".css": "text/css"}

    def do_GET(self):
        if not urlsplit(self.path).path.startswith(SERVED):
            self.send_error(404)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


# Installed before the moves: one record per pointermove the editor receives.
PROBE_JS = r"""
({target}) => {
  const el = document.querySelector(target);
  const ed = window.editor;
  const afterFrame = () => new Promise(r => { const c = new MessageChannel(); c.port1.onmessage = () => r(); c.port2.postMessage(0); });
  window.__paint = {lat: [], fromInput: [], work: []};
  if (window.__probe) window.__probe.el.removeEventListener('pointermove', window.__probe.fn, {capture: true});
  const fn = (e) => {
    if (!e.buttons) return;
    const t0 = performance.now(), ts = e.timeStamp;
    const done = () => afterFrame().then(() => {
      const t1 = performance.now();
      window.__paint.lat.push(t1 - t0); window.__paint.fromInput.push(t1 - ts);
    });
    if (ed && target === '.me-viewport') {
      ed.addEventListener('render', (r) => { window.__paint.work.push(r.detail.ms); done(); }, {once: true});
    } else {
      requestAnimationFrame(done);  // baseline: nothing to paint, just the frame
    }
  };
  el.addEventListener('pointermove', fn, {capture: true});
  window.__probe = {el, fn};  // one probe at a time: the next call removes this one
}
"""

STATS_JS = r"""
() => {
  const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]; };
  const stats = (a) => a.length ? {p50: pct(a, 50), p95: pct(a, 95), max: Math.max(...a), n: a.length} : null;
  const p = window.__paint;
  return {latency: stats(p.lat), fromInput: stats(p.fromInput), work: stats(p.work)};
}
"""


def _stroke(page, box, moves: int, seed: int) -> None:
    """Button down in the middle of box, `moves` moves along a curve at random moments, up."""
    import math
    import random
    import time

    rnd = random.Random(seed)
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    rad = min(box["width"], box["height"]) * 0.35
    at = lambda i: (cx + rad * math.cos(i / 9), cy + rad * math.sin(i / 7))  # noqa: E731
    page.mouse.move(*at(0))
    page.mouse.down()
    for i in range(1, moves + 1):
        time.sleep(rnd.uniform(0, 0.017))
        page.mouse.move(*at(i))
    page.mouse.up()
    page.wait_for_timeout(100)  # the last frame ends


def paint_latency(page, moves: int, size: int, feather: float) -> dict:
    """Baseline (a plain element), then the editor with this brush; stats of both."""
    page.evaluate("""() => { const d = document.createElement('div'); d.id = 'bench-plain';
      d.style.cssText = 'position:fixed;inset:0;z-index:99;background:transparent'; document.body.append(d); }""")
    page.evaluate(PROBE_JS, {"target": "#bench-plain"})
    _stroke(page, page.locator("#bench-plain").bounding_box(), moves, seed=size)
    base = page.evaluate(STATS_JS)
    page.evaluate("document.getElementById('bench-plain').remove()")
    page.evaluate(f"() => {{ const ed = window.editor; ed.setTool('brush'); ed.setBrushSize({size}); "
                  f"ed.setFeather({feather}); ed.fit(); }}")
    page.evaluate(PROBE_JS, {"target": ".me-viewport"})
    _stroke(page, page.locator(".me-viewport").bounding_box(), moves, seed=size + 1)
    res = page.evaluate(STATS_JS)
    if not (base["latency"] and res["latency"] and res["work"]):
        raise RuntimeError("no pointermove reached the page (or nothing was painted): no figures")
    st = page.evaluate("window.editor.getState()")
    page.evaluate("window.editor.clear()")
    return {"baseline": base["latency"], "baselineFromInput": base["fromInput"], "latency": res["latency"],
            "fromInput": res["fromInput"], "work": res["work"], "undoSteps": st["undoSteps"],
            "historyBytes": st["historyBytes"]}


EXPORT_JS = r"""
async ({runs}) => {
  const ed = window.editor;
  ed.setBrushSize(300); ed.setFeather(0.3);
  // Paint a few strokes through the API path used by pointer input.
  const vp = document.querySelector('.me-viewport');
  const r = vp.getBoundingClientRect();
  const ev = (type, x, y) => new PointerEvent(type, {clientX: x, clientY: y, pointerId: 1, pointerType: 'mouse',
    isPrimary: true, button: 0, buttons: type === 'pointerup' ? 0 : 1, bubbles: true, cancelable: true});
  for (let k = 0; k < 3; k++) {
    const y = r.top + r.height * (0.3 + 0.2 * k);
    vp.dispatchEvent(ev('pointerdown', r.left + r.width * 0.2, y));
    for (let i = 0; i <= 20; i++) vp.dispatchEvent(ev('pointermove', r.left + r.width * (0.2 + 0.03 * i), y + 30 * Math.sin(i)));
    vp.dispatchEvent(ev('pointerup', r.left + r.width * 0.8, y));
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const ex = [], base = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    const b = await ed.exportMask();
    ex.push(performance.now() - t0);
    bytes = b.size;
    t0 = performance.now();
    await new Promise(res => ed.imageCanvas.toBlob(res, 'image/png'));
    base.push(performance.now() - t0);
  }
  return {width: ed.getState().width, height: ed.getState().height, export: {median: med(ex), min: Math.min(...ex)},
          baseline: {median: med(base), min: Math.min(...base)}, pngBytes: bytes};
}
"""


def run(moves: int, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Handler, directory=str(ROOT))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}/playwright/fixtures/editor.html"
    out: dict = {"paint": [], "export": None}
    try:
        with sync_playwright() as p:
            browser = chromium.launch(p)
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            ctx.route("**/*", lambda r: r.continue_() if urlsplit(r.request.url).hostname == "127.0.0.1" else r.abort())
            page = ctx.new_page()
            page.goto(f"{base}?w=2048&h=2048")
            page.wait_for_function("!!(window.editor && window.editor.getState)")
            page.evaluate("localStorage.clear()")
            for size, feather in ((48, 0.25), (256, 0.5)):
                for _ in range(runs):
                    r = paint_latency(page, moves, size, feather)
                    out["paint"].append({"image": "2048x2048", "brush": size, "feather": feather, **r})
            page.goto(f"{base}?w=4000&h=3000")
            page.wait_for_function("!!(window.editor && window.editor.getState)", timeout=60_000)
            out["export"] = page.evaluate(EXPORT_JS, {"runs": runs})
            browser.close()
    finally:
        srv.shutdown()
        srv.server_close()
    return out


def table(res: dict) -> str:
    rows = ["mask editor (headless Chromium, software rendering)",
            f"{'row':<48} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"]
    first = True
    for r in res["paint"]:
        if first:
            b = r["baseline"]
            rows.append(f"{'pointermove -> frame ended, plain element (baseline)':<48} {b['p50']:8.1f} {b['p95']:8.1f} {b['max']:8.1f}")
            b = r["baselineFromInput"]
            rows.append(f"{'  the same from the input timestamp':<48} {b['p50']:8.1f} {b['p95']:8.1f} {b['max']:8.1f}")
            first = False
        lat, w, fi = r["latency"], r["work"], r["fromInput"]
        name = f"pointermove -> frame painted, {r['brush']}px brush"
        rows.append(f"{name:<48} {lat['p50']:8.1f} {lat['p95']:8.1f} {lat['max']:8.1f}")
        rows.append(f"{'  the same from the input timestamp':<48} {fi['p50']:8.1f} {fi['p95']:8.1f} {fi['max']:8.1f}")
        rows.append(f"{'  of which stamping work per frame':<48} {w['p50']:8.2f} {w['p95']:8.2f} {w['max']:8.2f}")
        ratio = lat["p95"] / max(r["baseline"]["p95"], 1e-9)
        rows.append(f"{'  p95 ratio to baseline':<48} {ratio:8.2f}")
    e = res["export"]
    if e:
        mp = e["width"] * e["height"] / 1e6
        rows.append(f"{'row':<48} {'median':>8} {'min':>8}")
        name = f"exportMask() {e['width']}x{e['height']} ({mp:.0f} MP)"
        rows.append(f"{name:<48} {e['export']['median']:8.0f} {e['export']['min']:8.0f}")
        rows.append(f"{'canvas.toBlob() same image (baseline)':<48} {e['baseline']['median']:8.0f} {e['baseline']['min']:8.0f}")
        rows.append(f"{'  mask PNG bytes':<48} {e['pngBytes']:8d}")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--moves", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM}", file=sys.stderr)
        return 2
    res = run(args.moves, args.runs)
    print(json.dumps(res, indent=2) if args.json else table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
