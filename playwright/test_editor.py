"""Browser tests of the canvas mask editor (static/editor/), on a standalone page.

The editor needs no Python runtime, so these tests serve only `static/` and
`playwright/fixtures/` from a small localhost server of their own and drive
headless Chromium (/usr/bin/chromium). Exported PNGs are decoded with Pillow.
"""
from __future__ import annotations

import base64
import functools
import http.server
import io
import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

import chromium
from imagesynth.build import versions

sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "playwright" / "screenshots"
W, H = 640, 480
SERVED = ("/static/", "/playwright/fixtures/", "/py/app/editor.py", "/pyodide/")


def _find_pyodide():
    """A local Pyodide (npm `pyodide` files) for the glue test, if one was assembled."""
    site = ROOT / "site"
    # a built site's runtime, in its versioned folder or plain pyscript/ (build/versions.py's rule)
    cands = [versions.runtime_dir(site) / "pyodide"] if site.is_dir() else []
    cands += [ROOT / "runtime" / "pyodide", site / "pyscript"]
    cands += sorted((ROOT / ".cache" / "runtime" / "unpacked").glob("pyodide-*/package"))
    for d in cands:
        if all((d / f).is_file() for f in ("pyodide.mjs", "pyodide.asm.wasm", "python_stdlib.zip")):
            return d
    return None


PYODIDE = _find_pyodide()


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
                      ".wasm": "application/wasm"}

    def translate_path(self, path):
        p = urlsplit(path).path
        if p.startswith("/pyodide/") and PYODIDE:
            return str(PYODIDE / p[len("/pyodide/"):].replace("/", os.sep).lstrip(os.sep))
        return super().translate_path(path)

    def do_GET(self):  # only the editor's files, nothing else of the repo
        if not urlsplit(self.path).path.startswith(SERVED):
            self.send_error(404)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def editor_server():
    handler = functools.partial(_Handler, directory=str(ROOT))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def editor_browser():
    if not Path(chromium.CHROMIUM).exists():
        pytest.skip(f"no Chromium at {chromium.CHROMIUM}")
    with sync_api.sync_playwright() as p:
        browser = chromium.launch(p, headless=True)
        yield browser
        browser.close()


def _guard(route):
    host = urlsplit(route.request.url).hostname
    if host in ("127.0.0.1", "localhost"):
        route.continue_()
    else:  # localhost only: the app must never reach out
        route.abort()


@pytest.fixture
def editor_context(editor_browser):
    ctx = editor_browser.new_context(viewport={"width": 1100, "height": 760})
    ctx.route("**/*", _guard)
    yield ctx
    ctx.close()


def open_editor(ctx, server, query=f"w={W}&h={H}"):
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/playwright/fixtures/editor.html?{query}")
    page.wait_for_function("window.editorReady && window.editor")
    page.evaluate("window.editorReady")
    page.errors = errors
    return page


@pytest.fixture
def page(editor_context, editor_server):
    pg = open_editor(editor_context, editor_server)
    yield pg
    assert not pg.errors, pg.errors


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"editor-{name}.png"
    page.screenshot(path=str(path))
    return path


def export(page, what="exportMask", arg=None):
    b64 = page.evaluate(f"async (a) => blobToBase64(await editor.{what}(a ?? undefined))", arg)
    img = Image.open(io.BytesIO(base64.b64decode(b64)))
    img.load()
    return img


def alpha(img, x, y):
    return img.getpixel((x, y))[3]


def to_client(page, x, y):
    p = page.evaluate("([x, y]) => editor.imageToClient(x, y)", [x, y])
    return p["x"], p["y"]


def stroke(page, pts, steps=12):
    """Drag the mouse through image-pixel points."""
    x, y = to_client(page, *pts[0])
    page.mouse.move(x, y)
    page.mouse.down()
    for px, py in pts[1:]:
        x, y = to_client(page, px, py)
        page.mouse.move(x, y, steps=steps)
    page.mouse.up()
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")


def set_hard_brush(page, size=40):
    page.evaluate(f"() => {{ editor.setTool('brush'); editor.setBrushSize({size}); editor.setFeather(0); }}")


# ---------------------------------------------------------------- tests

def test_page_and_accessibility(page):
    vp = page.locator(".me-viewport")
    assert vp.get_attribute("role") == "application"
    assert vp.get_attribute("aria-label") == "Mask editor: paint the area to change"
    assert vp.evaluate("e => getComputedStyle(e).touchAction") == "none"
    buttons = page.locator(".mask-editor button")
    assert buttons.count() >= 14
    for i in range(buttons.count()):
        b = buttons.nth(i)
        assert b.get_attribute("aria-label"), b.inner_html()
        assert b.get_attribute("title")
    assert "(B)" in page.locator(".me-brush").get_attribute("title")
    assert "(E)" in page.locator(".me-eraser").get_attribute("title")
    # Tools are reachable by keyboard, with a visible focus ring.
    page.locator("#prompt").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.action") == "brush"
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert ring == "solid"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("editor.getSettings().tool") == "eraser"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    assert page.evaluate("editor.getSettings().tool") == "brush"


def test_paint_stroke_exports_alpha(page):
    set_hard_brush(page, 40)
    stroke(page, [(100, 100), (300, 100), (300, 200)])
    m = export(page)
    assert m.size == (W, H) and m.mode == "RGBA"
    for x, y in [(100, 100), (200, 100), (300, 100), (300, 150), (300, 200), (200, 110)]:
        assert alpha(m, x, y) == 0, (x, y)
    for x, y in [(200, 200), (0, 0), (500, 400), (200, 125), (100, 300)]:
        assert alpha(m, x, y) == 255, (x, y)
    # Only fully kept or fully painted away from the edge; nothing else touched.
    hist = m.getchannel("A").histogram()
    assert hist[0] > 40 * 280 * 0.9 and hist[255] > W * H * 0.9
    img = export(page, "exportImage")
    assert img.size == (W, H) and alpha(img, 200, 100) == 255  # image untouched
    assert page.evaluate("editor.getState().undoSteps") == 1
    shot(page, "stroke")


def test_soft_edge(page):
    page.evaluate("() => { editor.setBrushSize(60); editor.setFeather(0.8); }")
    stroke(page, [(100, 240), (500, 240)])
    m = export(page)
    assert alpha(m, 300, 240) == 0
    edge = [alpha(m, 300, 240 + d) for d in range(0, 34, 2)]
    assert any(0 < a < 255 for a in edge), edge
    assert edge == sorted(edge), edge  # falls off monotonically
    assert alpha(m, 300, 240 + 32) == 255


def test_undo_redo(page):
    set_hard_brush(page, 30)
    stroke(page, [(100, 100), (200, 100)])
    stroke(page, [(100, 300), (200, 300)])
    m = export(page)
    assert alpha(m, 150, 100) == 0 and alpha(m, 150, 300) == 0
    page.locator(".me-viewport").focus()
    page.keyboard.press("Control+z")
    m = export(page)
    assert alpha(m, 150, 100) == 0 and alpha(m, 150, 300) == 255
    page.locator(".me-undo").click()
    m = export(page)
    assert alpha(m, 150, 100) == 255
    assert page.locator(".me-undo").is_disabled()
    page.locator(".me-viewport").focus()
    page.keyboard.press("Shift+Control+z")
    assert alpha(export(page), 150, 100) == 0
    page.keyboard.press("Control+Shift+Z")
    assert alpha(export(page), 150, 300) == 0
    assert page.locator(".me-redo").is_disabled()
    # A stroke stores its dirty rectangle only, not the whole canvas.
    assert page.evaluate("editor.getState().historyBytes") < W * H * 4 / 4
    # Clear / fill / invert are undoable too.
    page.locator(".me-clear").click()
    assert export(page).getchannel("A").getextrema() == (255, 255)
    page.locator(".me-fill").click()
    assert export(page).getchannel("A").getextrema() == (0, 0)
    page.locator(".me-undo").click()
    page.locator(".me-undo").click()
    m = export(page)
    assert alpha(m, 150, 100) == 0 and alpha(m, 150, 300) == 0 and alpha(m, 400, 200) == 255


def test_invert(page):
    set_hard_brush(page, 40)
    stroke(page, [(100, 100), (200, 100)])
    page.locator(".me-invert").click()
    m = export(page)
    assert alpha(m, 150, 100) == 255
    assert alpha(m, 400, 300) == 0 and alpha(m, 0, 0) == 0
    page.locator(".me-viewport").focus()
    page.keyboard.press("i")
    m = export(page)
    assert alpha(m, 150, 100) == 0 and alpha(m, 400, 300) == 255
    page.keyboard.press("Control+z")
    assert alpha(export(page), 150, 100) == 255


def test_zoom_then_paint_lands_on_same_pixels(page):
    set_hard_brush(page, 8)
    vp = page.locator(".me-viewport")
    box = vp.bounding_box()
    cx, cy = (round(v) for v in to_client(page, 400, 300))
    under = page.evaluate("([x, y]) => editor.clientToImage(x, y)", [cx, cy])
    page.mouse.move(cx, cy)
    for _ in range(5):
        page.mouse.wheel(0, -240)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
    zoom = page.evaluate("editor.getState().zoom")
    assert zoom > 4, zoom
    # The wheel zooms about the cursor: the image point under it stays there.
    x2, y2 = to_client(page, under["x"], under["y"])
    assert abs(x2 - cx) < 1 and abs(y2 - cy) < 1
    vp.focus()
    page.keyboard.press("+")  # also +/- keys once the editor has focus
    assert page.evaluate("editor.getState().zoom") > zoom
    stroke(page, [(396, 300), (404, 300)], steps=4)
    shot(page, "zoomed-stroke")
    m = export(page)
    for x in range(396, 405):
        assert alpha(m, x, 300) == 0, x
    assert alpha(m, 400, 303) == 0 and alpha(m, 400, 296) == 0
    assert alpha(m, 400, 306) == 255 and alpha(m, 400, 294) == 255
    assert alpha(m, 390, 300) == 255 and alpha(m, 410, 300) == 255
    # The brush-size cursor follows the zoom (8 image px on screen).
    d = page.evaluate("parseFloat(document.querySelector('.me-cursor').style.width)")
    assert abs(d - 8 * page.evaluate("editor.getState().zoom")) < 0.5
    # Space-drag pans; fit brings the whole image back.
    before = page.evaluate("editor.getState().pan")
    page.mouse.move(box["x"] + 300, box["y"] + 300)
    page.keyboard.down(" ")
    page.mouse.down()
    page.mouse.move(box["x"] + 400, box["y"] + 350, steps=5)
    page.mouse.up()
    page.keyboard.up(" ")
    after = page.evaluate("editor.getState().pan")
    assert round(after["x"] - before["x"]) == 100 and round(after["y"] - before["y"]) == 50
    assert alpha(export(page), 400, 250) == 255  # panning painted nothing
    page.keyboard.press("f")
    z = page.evaluate("editor.getState().zoom")
    assert z <= min(box["width"] / W, box["height"] / H)


def test_eraser(page):
    set_hard_brush(page, 40)
    stroke(page, [(100, 200), (500, 200)])
    page.locator(".me-viewport").focus()
    page.keyboard.press("e")
    assert page.evaluate("editor.getSettings().tool") == "eraser"
    stroke(page, [(300, 160), (300, 240)])
    m = export(page)
    assert alpha(m, 150, 200) == 0 and alpha(m, 450, 200) == 0
    assert alpha(m, 300, 200) == 255
    shot(page, "eraser")
    page.keyboard.press("b")
    assert page.evaluate("editor.getSettings().tool") == "brush"


def test_outpaint_right(page):
    set_hard_brush(page, 30)
    stroke(page, [(100, 100), (150, 100)])
    page.locator(".me-extend-by").fill("160")
    page.locator(".me-extend-by").press("Tab")
    page.locator(".me-extend-right").click()
    state = page.evaluate("editor.getState()")
    assert state["width"] == W + 160 and state["height"] == H and state["extended"]
    img = export(page, "exportImage")
    assert img.size == (W + 160, H)
    assert alpha(img, W + 10, 10) == 0 and alpha(img, W + 159, H - 1) == 0
    assert alpha(img, W - 1, 10) == 255
    m = export(page)
    assert m.size == (W + 160, H)
    assert m.getchannel("A").crop((W, 0, W + 160, H)).getextrema() == (0, 0)
    assert alpha(m, 400, 300) == 255 and alpha(m, 125, 100) == 0
    # Erasing in the new area cannot unmask it: the model must fill it.
    page.evaluate("editor.setTool('eraser')")
    stroke(page, [(W + 40, 200), (W + 100, 200)])
    assert alpha(export(page), W + 70, 200) == 0
    shot(page, "outpaint")
    page.evaluate("editor.undo(); editor.undo()")
    assert page.evaluate("editor.getState().width") == W
    page.evaluate("editor.redo()")
    assert page.evaluate("editor.getState().width") == W + 160
    # Extend left and top too: strokes shift with the image.
    page.evaluate("editor.extend({left: 20, top: 10})")
    m = export(page)
    assert m.size == (W + 180, H + 10)
    assert alpha(m, 125 + 20, 100 + 10) == 0 and alpha(m, 5, 200) == 0 and alpha(m, 300, 5) == 0
    assert alpha(m, 400, 300) == 255


def test_keyboard_shortcuts_only_with_focus(page):
    page.evaluate("editor.setBrushSize(40); editor.setTool('brush')")
    page.locator("#prompt").click()
    page.keyboard.type("e[]]+b")
    assert page.evaluate("editor.getSettings()")["tool"] == "brush"
    assert page.evaluate("editor.getSettings()")["size"] == 40
    assert page.locator("#prompt").input_value() == "e[]]+b"
    page.locator(".me-viewport").focus()
    page.keyboard.press("e")
    assert page.evaluate("editor.getSettings().tool") == "eraser"
    page.keyboard.press("]")
    assert page.evaluate("editor.getSettings().size") == 48
    page.keyboard.press("[")
    page.keyboard.press("[")
    assert page.evaluate("editor.getSettings().size") == 33
    assert page.locator(".me-size").input_value() == "33"
    z = page.evaluate("editor.getState().zoom")
    page.keyboard.press("-")
    assert page.evaluate("editor.getState().zoom") < z
    page.keyboard.press("b")
    assert page.evaluate("editor.getSettings().tool") == "brush"
    # The slider sets the size as well.
    page.locator(".me-size").fill("120")
    assert page.evaluate("editor.getSettings().size") == 120


def test_settings_persist_across_reload(editor_context, editor_server):
    page = open_editor(editor_context, editor_server)
    page.evaluate("editor.setTool('eraser'); editor.setBrushSize(77); editor.setFeather(0.4); editor.setOverlayOpacity(0.8)")
    raw = page.evaluate("localStorage.getItem('imagesynth.editor.settings')")
    assert '"size":77' in raw
    page.reload()
    page.wait_for_function("!!(window.editor && window.editor.getState)")
    s = page.evaluate("editor.getSettings()")
    assert (s["tool"], s["size"], s["feather"], s["opacity"]) == ("eraser", 77, 0.4, 0.8)
    assert page.locator(".me-size").input_value() == "77"
    assert page.locator(".me-eraser").get_attribute("aria-pressed") == "true"
    page.evaluate("localStorage.removeItem('imagesynth.editor.settings')")


def _png(img):
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_upload_black_white_mask(page, tmp_path):
    bw = Image.new("L", (W, H), 0)
    bw.paste(255, (200, 150, 400, 300))  # white = area to change
    path = tmp_path / "mask.png"
    path.write_bytes(_png(bw))
    page.locator(".me-file").set_input_files(str(path))
    page.wait_for_function("window.changes.includes('mask')")
    m = export(page)
    assert alpha(m, 300, 200) == 0 and alpha(m, 201, 151) == 0
    assert alpha(m, 100, 100) == 255 and alpha(m, 450, 350) == 255
    shot(page, "uploaded-mask")
    page.evaluate("editor.undo()")
    assert export(page).getchannel("A").getextrema() == (255, 255)


def test_upload_alpha_mask_half_size(page):
    # An API-convention mask (alpha 0 = change) at half size is scaled to the image.
    am = Image.new("RGBA", (W // 2, H // 2), (0, 0, 0, 255))
    am.paste((0, 0, 0, 0), (0, 0, 100, 100))
    b64 = base64.b64encode(_png(am)).decode()
    mode = page.evaluate("async b => (await editor.loadMask(base64ToBlob(b))).mode", b64)
    assert mode == "alpha"
    m = export(page)
    assert alpha(m, 50, 50) == 0 and alpha(m, 190, 190) == 0
    assert alpha(m, 210, 210) == 255


def test_bad_mask_upload_says_why(page, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"this is not an image")
    page.locator(".me-file").set_input_files(str(bad))
    page.wait_for_function("document.querySelector('.me-status').textContent.length > 0")
    assert "could not be read as an image" in page.locator(".me-status").text_content()


def test_transparent_image_pixels_are_masked(editor_context, editor_server):
    page = open_editor(editor_context, editor_server)
    rgba = Image.new("RGBA", (200, 100), (40, 120, 200, 255))
    rgba.paste((0, 0, 0, 0), (150, 0, 200, 100))
    b64 = base64.b64encode(_png(rgba)).decode()
    page.evaluate("async b => editor.loadImage(base64ToBlob(b))", b64)
    m = export(page)
    assert m.size == (200, 100)
    assert alpha(m, 10, 10) == 255 and alpha(m, 170, 50) == 0
    cut = export(page, "exportMask", {"withImage": True})
    assert cut.getpixel((10, 10)) == (40, 120, 200, 255)


def test_screenshot_in_use(editor_context, editor_server):
    page = open_editor(editor_context, editor_server, "w=1024&h=768")
    page.evaluate("editor.setBrushSize(70); editor.setFeather(0.35)")
    stroke(page, [(300, 420), (420, 380), (560, 430), (700, 400)], steps=16)
    x, y = to_client(page, 640, 250)
    page.mouse.move(x, y)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
    path = shot(page, "in-use")
    assert path.stat().st_size > 10_000


GLUE_SETUP = """
async () => {
  const { loadPyodide } = await import('/pyodide/pyodide.mjs');
  const py = await loadPyodide({ indexURL: '/pyodide/' });
  py.FS.writeFile('/home/pyodide/editor.py', await (await fetch('/py/app/editor.py')).text());
  window.py = py;
  return py.version;
}
"""

GLUE_CREATE = """
import base64, js, editor
png = base64.b64decode(PNG_B64)
ed = await editor.MaskEditor.create(
    "#editor-host", png, storage_key=None, settings={"size": 30, "feather": 0},
    module_url="/static/editor/mask-editor.js", css_url="/static/editor/mask-editor.css")
reasons = []
unsubscribe = ed.on_change(lambda state: reasons.append(state["reason"]))
js.window.editor = ed.js
(ed.state["width"], ed.state["height"], ed.settings["size"])
"""

GLUE_EXPORT = """
mask = await ed.export_mask()
ed.extend(right=64)
image = await ed.export_image()
unsubscribe()
ed.undo()
import base64
[base64.b64encode(mask).decode(), base64.b64encode(image).decode(), reasons, ed.state["width"],
 editor.sniff_mime(mask)]
"""


@pytest.mark.skipif(PYODIDE is None, reason="no local Pyodide assembled (site/ or .cache/runtime)")
def test_python_glue_in_pyodide(editor_context, editor_server):
    page = editor_context.new_page()
    page.goto(f"{editor_server}/playwright/fixtures/editor.html?noeditor=1")
    assert page.evaluate("typeof window.ImagesynthMaskEditor") == "undefined"
    page.evaluate(GLUE_SETUP)
    img = Image.new("RGB", (320, 240), (30, 90, 160))
    b64 = base64.b64encode(_png(img)).decode()
    page.evaluate("b => window.py.globals.set('PNG_B64', b)", b64)
    size = page.evaluate("async c => (await window.py.runPythonAsync(c)).toJs()", GLUE_CREATE)
    assert size == [320, 240, 30]
    assert page.evaluate("typeof window.ImagesynthMaskEditor.createMaskEditor") == "function"
    stroke(page, [(100, 100), (200, 100)])
    mask_b64, image_b64, reasons, width, mime = page.evaluate(
        "async c => (await window.py.runPythonAsync(c)).toJs()", GLUE_EXPORT)
    mask = Image.open(io.BytesIO(base64.b64decode(mask_b64)))
    assert mask.size == (320, 240) and mask.mode == "RGBA" and mime == "image/png"
    assert alpha(mask, 150, 100) == 0 and alpha(mask, 150, 200) == 255
    image = Image.open(io.BytesIO(base64.b64decode(image_b64)))
    assert image.size == (384, 240) and alpha(image, 350, 10) == 0
    assert reasons == ["stroke", "extend"]  # unsubscribed before the undo
    assert width == 320
    shot(page, "python-glue")
