"""Mask editor benchmark rows (figures printed, not asserted).

  .venv/bin/python bench/editor_bench.py [--json] [--moves N] [--runs N]

In headless Chromium (/usr/bin/chromium), on the standalone editor page:
  * paint latency on a 2048² image: a synthetic pointermove is dispatched, and
    the time to the end of the next frame that shows the new paint is measured
    (rAF that painted -> a MessageChannel task, which runs after the frame);
    p50/p95 over N moves, for a small and a large brush;
  * baseline in the same run: the same measurement around an empty
    requestAnimationFrame (what waiting for the next frame costs by itself);
  * the JS work per painted frame (stamping), p50/p95;
  * exportMask() on a 12-megapixel (4000×3000) image, with canvas.toBlob() of
    the same image as a baseline.
Times drift between machines: read them as ratios to the baselines.
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
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
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


LATENCY_JS = r"""
async ({moves, size, feather}) => {
  const ed = window.editor;
  const vp = document.querySelector('.me-viewport');
  const frame = () => new Promise(r => requestAnimationFrame(r));
  const afterFrame = () => new Promise(r => { const c = new MessageChannel(); c.port1.onmessage = () => r(); c.port2.postMessage(0); });
  const jitter = () => new Promise(r => setTimeout(r, Math.random() * 16));
  const pct = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]; };
  const stats = (a) => ({p50: pct(a, 50), p95: pct(a, 95), max: Math.max(...a), n: a.length});

  // Baseline: the same wait around an empty requestAnimationFrame.
  const base = [];
  for (let i = 0; i < moves; i++) {
    await jitter();
    const t0 = performance.now();
    await new Promise(r => requestAnimationFrame(() => afterFrame().then(r)));
    base.push(performance.now() - t0);
  }

  // Second baseline: a frame that changes one pixel of a viewport-sized canvas (the
  // least the editor's overlay costs to present, whatever is painted).
  const tiny = document.createElement('canvas'); tiny.width = 1280; tiny.height = 700;
  tiny.style.cssText = 'position:fixed;right:0;bottom:0;width:1280px;height:700px;pointer-events:none';
  document.body.append(tiny);
  const tctx = tiny.getContext('2d');
  const base1 = [];
  for (let i = 0; i < moves; i++) {
    await jitter();
    const t0 = performance.now();
    await new Promise(r => requestAnimationFrame(() => { tctx.fillStyle = i % 2 ? '#000' : '#fff'; tctx.fillRect(i % 8, 0, 1, 1); afterFrame().then(r); }));
    base1.push(performance.now() - t0);
  }
  tiny.remove();

  ed.setTool('brush'); ed.setBrushSize(size); ed.setFeather(feather); ed.fit();
  await frame();
  const r = vp.getBoundingClientRect();
  const ev = (type, x, y) => new PointerEvent(type, {clientX: x, clientY: y, pointerId: 1, pointerType: 'mouse',
    isPrimary: true, button: type === 'pointermove' ? -1 : 0, buttons: type === 'pointerup' ? 0 : 1, bubbles: true, cancelable: true});
  const cx = r.left + r.width / 2, cy = r.top + r.height / 2, rad = Math.min(r.width, r.height) * 0.35;
  const at = (i) => [cx + rad * Math.cos(i / 9), cy + rad * Math.sin(i / 7)];
  let work = [];
  const onRender = (e) => work.push(e.detail.ms);
  ed.addEventListener('render', onRender);
  vp.dispatchEvent(ev('pointerdown', ...at(0)));
  await frame();
  work = [];
  const lat = [];
  for (let i = 1; i <= moves; i++) {
    await jitter();
    const painted = new Promise(res => ed.addEventListener('render', () => afterFrame().then(res), {once: true}));
    const t0 = performance.now();
    vp.dispatchEvent(ev('pointermove', ...at(i)));
    await painted;
    lat.push(performance.now() - t0);
  }
  vp.dispatchEvent(ev('pointerup', ...at(moves)));
  ed.removeEventListener('render', onRender);
  const st = ed.getState();
  ed.clear();
  return {baseline: stats(base), baselinePixel: stats(base1), latency: stats(lat), work: stats(work), undoSteps: st.undoSteps, historyBytes: st.historyBytes};
}
"""

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
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            ctx.route("**/*", lambda r: r.continue_() if urlsplit(r.request.url).hostname == "127.0.0.1" else r.abort())
            page = ctx.new_page()
            page.goto(f"{base}?w=2048&h=2048")
            page.wait_for_function("!!(window.editor && window.editor.getState)")
            page.evaluate("localStorage.clear()")
            for size, feather in ((48, 0.25), (256, 0.5)):
                r = page.evaluate(LATENCY_JS, {"moves": moves, "size": size, "feather": feather})
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
            rows.append(f"{'empty rAF -> next frame (baseline)':<48} {b['p50']:8.1f} {b['p95']:8.1f} {b['max']:8.1f}")
            b = r["baselinePixel"]
            rows.append(f"{'rAF, 1 px on a viewport-size canvas (baseline)':<48} {b['p50']:8.1f} {b['p95']:8.1f} {b['max']:8.1f}")
            first = False
        lat, w = r["latency"], r["work"]
        name = f"pointermove -> frame painted, {r['brush']}px brush"
        rows.append(f"{name:<48} {lat['p50']:8.1f} {lat['p95']:8.1f} {lat['max']:8.1f}")
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
