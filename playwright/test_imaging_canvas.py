"""The shared imaging contract (tests/imaging_contract.py), run in headless Chromium
against ``CanvasImaging`` — the implementation the browser actually runs, since
Pillow has no Pyodide wheel reachable here (ENVIRONMENT.md).

One pytest test per contract check, parametrized by the CHECKS names; the page
(raw ``loadPyodide()`` + the built site's ``py/imagesynth.zip``) is loaded and
the whole suite run once per module.  A check that needs something the browser
does not have (it imports PIL, say) is reported as *skipped with the reason*,
never silently dropped; a check that fails shows the Python traceback from the
page.  Also here: the 12-megapixel photo timing (decode + fit + encode in the
page) and the check that the page asked nothing from outside the site.

The site (conftest's ``site_dir``) is served to conftest's ``browser`` through
Playwright's request routing (no socket): requests to ORIGIN are answered from
the built site, everything else is aborted and recorded.
"""

from __future__ import annotations

import importlib.util
import io
import json
import mimetypes
import time
from pathlib import Path

import pytest

from imagesynth.build import versions

REPO = Path(__file__).resolve().parent.parent
CONTRACT_FILE = REPO / "tests" / "imaging_contract.py"
PAGE_FILE = Path(__file__).resolve().parent / "fixtures" / "imaging_canvas.html"
ORIGIN = "http://localhost:8765"  # answered by page.route, no socket; localhost is a secure context
CHECK_TIMEOUT_S = 60  # per check, inside the page

mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".mjs")


def _load_contract():
    """The contract module as CPython sees it, only to learn the CHECKS names."""
    if not CONTRACT_FILE.is_file():
        return None, f"{CONTRACT_FILE.relative_to(REPO)} does not exist yet"
    spec = importlib.util.spec_from_file_location("imaging_contract_names", CONTRACT_FILE)
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except Exception as exc:  # noqa: BLE001 - reported as a failing test below
        return None, f"importing {CONTRACT_FILE.name} on CPython failed: {exc!r}"
    return mod, None


_CONTRACT, _CONTRACT_PROBLEM = _load_contract()
CHECK_NAMES = [c.__name__ for c in _CONTRACT.CHECKS] if _CONTRACT is not None else []


# --- the page ----------------------------------------------------------------------------------
# Runs inside Pyodide; returns JSON.  ModuleNotFoundError for a module the browser lacks
# (Pillow, numpy) is a visible skip; anything else raised is a failure with its traceback.
RUNNER = r"""
import asyncio, json, sys, time, traceback
sys.path.insert(0, "/home/pyodide/contract")
from imagesynth.imaging.canvas import CanvasImaging

out = {"import_error": None, "checks": {}}
try:
    import imaging_contract as C
except BaseException:
    out["import_error"] = traceback.format_exc()
else:
    for check in C.CHECKS:
        t0 = time.perf_counter()
        try:
            await asyncio.wait_for(check(CanvasImaging()), TIMEOUT)
            r = {"outcome": "passed"}
        except ModuleNotFoundError as exc:
            r = {"outcome": "skipped",
                 "reason": f"needs the module {exc.name!r}, which the browser does not have",
                 "error": traceback.format_exc()}
        except asyncio.TimeoutError:
            r = {"outcome": "failed", "error": f"timed out after {TIMEOUT} s in the page"}
        except BaseException:
            r = {"outcome": "failed", "error": traceback.format_exc()}
        r["ms"] = round((time.perf_counter() - t0) * 1000, 1)
        out["checks"][check.__name__] = r
json.dumps(out)
"""

TIMING = r"""
import json, time
from pathlib import Path
from imagesynth.imaging.canvas import CanvasImaging
I = CanvasImaging()
data = Path("/home/pyodide/photo12mp.jpg").read_bytes()
runs = []
for _ in range(3):
    t0 = time.perf_counter()
    pic = await I.decode(data)
    t1 = time.perf_counter()
    w, h = I.size(pic)
    scale = min(1536 / max(w, h), 1024 / min(w, h), 1.0)
    fitted = await I.resize(pic, (round(w * scale), round(h * scale)))
    t2 = time.perf_counter()
    png = await I.encode(fitted, "png")
    t3 = time.perf_counter()
    runs.append({"decode": t1 - t0, "fit": t2 - t1, "encode": t3 - t2, "total": t3 - t0,
                 "size": [w, h], "fitted": list(I.size(fitted)), "png_bytes": len(png)})
json.dumps(runs)
"""


def _photo_12mp() -> bytes:
    """A 4000x3000 JPEG with photo-like content and EXIF orientation 6 (as phones write)."""
    from PIL import Image

    size = (4000, 3000)
    r = Image.effect_mandelbrot(size, (-2.2, -1.2, 1.0, 1.2), 60)
    g = Image.linear_gradient("L").resize(size)
    b = Image.effect_noise(size, 40)
    im = Image.merge("RGB", (r, g, b))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


@pytest.fixture(scope="module")
def canvas_page(site_dir, browser):
    """One page for the module, on conftest's built site and browser.  Served through
    page routing: the test page from playwright/fixtures, the rest from the site; any
    request elsewhere is aborted and recorded (test_page_asked_nothing_outside)."""
    site = Path(site_dir)
    # the page names the runtime as the app's sources do; the built site has it in a versioned folder
    runtime = versions.runtime_dir(site).name
    files = {"/imaging_canvas.html": PAGE_FILE.read_bytes().replace(b"./pyscript/", f"./{runtime}/".encode())}
    outside: list[str] = []
    console: list[str] = []

    def serve(route):
        url = route.request.url
        if not url.startswith(ORIGIN + "/"):
            outside.append(url)
            return route.abort()
        path = url[len(ORIGIN):].split("?")[0].split("#")[0]
        body = files.get(path)
        if body is None:
            f = (site / path.lstrip("/")).resolve()
            if site.resolve() not in f.parents or not f.is_file():
                return route.fulfill(status=404, body="not found")
            body = f.read_bytes()
        ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return route.fulfill(status=200, body=body, content_type=ctype)

    context = browser.new_context()
    try:
        page = context.new_page()
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        context.route("**/*", serve)
        page.goto(ORIGIN + "/imaging_canvas.html")
        boot = page.evaluate("window.imagingReady")
        yield {"page": page, "boot": boot, "outside": outside, "console": console}
    finally:
        context.close()


def _py(page, code: str):
    return page.evaluate(
        "async (code) => { try { return {ok: true, value: String(await pyodide.runPythonAsync(code))}; }"
        " catch (e) { return {ok: false, error: String(e && e.message || e)}; } }",
        code,
    )


@pytest.fixture(scope="module")
def contract_results(canvas_page):
    if _CONTRACT is None:
        return {"problem": _CONTRACT_PROBLEM}
    page = canvas_page["page"]
    page.evaluate(
        "(src) => { pyodide.FS.mkdirTree('/home/pyodide/contract');"
        " pyodide.FS.writeFile('/home/pyodide/contract/imaging_contract.py', src); }",
        CONTRACT_FILE.read_text(encoding="utf-8"),
    )
    t0 = time.monotonic()
    res = _py(page, f"TIMEOUT = {CHECK_TIMEOUT_S}\n" + RUNNER)
    if not res["ok"]:
        return {"problem": "the runner itself failed in the page:\n" + res["error"]}
    out = json.loads(res["value"])
    out["seconds"] = time.monotonic() - t0
    return out


def test_contract_loaded():
    """Without the contract there is nothing to parametrize: say so instead of passing empty."""
    assert _CONTRACT is not None, _CONTRACT_PROBLEM
    assert CHECK_NAMES, "tests/imaging_contract.py has an empty CHECKS"


@pytest.mark.parametrize("name", CHECK_NAMES)
def test_contract_check_in_browser(contract_results, name):
    assert "problem" not in contract_results, contract_results.get("problem")
    assert contract_results["import_error"] is None, (
        "tests/imaging_contract.py does not import in the browser:\n" + contract_results["import_error"])
    r = contract_results["checks"].get(name)
    assert r is not None, f"{name} did not run in the page"
    if r["outcome"] == "skipped":
        pytest.skip(f"{name}: {r['reason']}")
    assert r["outcome"] == "passed", f"{name} failed in the browser:\n{r['error']}"


def test_photo_12mp_decode_fit_encode_in_page(canvas_page, record_property):
    """A 12-megapixel phone photo is decoded upright, fitted and encoded in the page.  The time
    is reported, not asserted (these machines are noisy): bench/run.py measures it."""
    page = canvas_page["page"]
    photo = _photo_12mp()
    page.evaluate(
        "async (b64) => { const r = await fetch('data:application/octet-stream;base64,' + b64);"
        " pyodide.FS.writeFile('/home/pyodide/photo12mp.jpg', new Uint8Array(await r.arrayBuffer())); }",
        __import__("base64").b64encode(photo).decode(),
    )
    res = _py(page, TIMING)
    assert res["ok"], res.get("error")
    runs = json.loads(res["value"])
    best = min(runs, key=lambda r: r["total"])
    record_property("photo_12mp_ms", {k: round(v * 1000) for k, v in best.items() if isinstance(v, float)})
    print(f"12 MP JPEG ({len(photo)} bytes) in the page, best of {len(runs)}: "
          + ", ".join(f"{k} {best[k] * 1000:.0f} ms" for k in ("decode", "fit", "encode", "total")))
    assert best["size"] == [3000, 4000], "EXIF orientation 6 must turn the 4000x3000 photo upright"
    assert best["fitted"] == [1024, 1365]


OPAQUE_WITHOUT_PIXELS = r"""
import json, sys
sys.path.insert(0, "/home/pyodide/contract")  # written there by contract_results
import imaging_contract as C
import imagesynth.imaging.canvas as cv
from imagesynth.imaging.canvas import CanvasImaging
I = CanvasImaging()
jpeg = await I.decode(C.FIXTURES["jpeg"])
resized = await I.resize(jpeg, (8, 4))  # a scaled copy of an opaque picture: known opaque
cropped = await I.crop(jpeg, (0, 0, 8, 4))  # opaque too, but only its pixels say so (a crop may reach outside)
reads = []
real = cv._rgba
def counting(pic):
    reads.append(pic.width * pic.height)
    return real(pic)
cv._rgba = counting
try:
    out = {"jpeg": await I.has_transparency(jpeg), "jpeg_reads": len(reads)}
    reads.clear()
    out["resized_reads"] = (await I.has_transparency(resized), len(reads))
    reads.clear()
    out["cropped_reads"] = (await I.has_transparency(cropped), len(reads))
finally:
    cv._rgba = real
json.dumps(out)
"""


def test_jpeg_is_known_opaque_without_reading_its_pixels(canvas_page, contract_results):
    """A JPEG has no alpha channel, so has_transparency answers from the decode alone: reading
    a 12 MP photo's pixels into Python only to find them opaque cost the edit ~100 ms. A picture
    cropped from it is still read (the counter sees that, so the test tells the two paths apart);
    a scaled copy is known opaque as well (the edit's upload is one)."""
    assert "problem" not in contract_results, contract_results.get("problem")
    res = _py(canvas_page["page"], OPAQUE_WITHOUT_PIXELS)
    assert res["ok"], res.get("error")
    out = json.loads(res["value"])
    assert out["jpeg"] is False and out["jpeg_reads"] == 0, out
    assert out["resized_reads"] == [False, 0] and out["cropped_reads"] == [False, 1], out


def test_page_asked_nothing_outside(canvas_page):
    assert canvas_page["outside"] == [], canvas_page["outside"]
