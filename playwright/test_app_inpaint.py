"""Edit in the page: inpaint by transparency, by a painted or uploaded mask, outpaint, paste-back."""

from __future__ import annotations

import io
import json

import pytest
from playwright.sync_api import expect

from apphelpers import add_page_python
from refhelpers import (diff_outside, download_tile, jpeg_bytes, picture, png_bytes, run_and_wait,
                        set_task, upload, wait_editor_loaded, wait_reference)

pytestmark = pytest.mark.usefixtures("server")



def _edit_with(page, im, name="photo.png"):
    upload(page, name, png_bytes(im))
    wait_reference(page)
    set_task(page, "edit")
    wait_editor_loaded(page)
    assert page.input_value("#size") == "source"  # an edit keeps the image's own size by default
    assert page.locator("#paste-back").is_checked()  # "Keep unpainted pixels" is on by default


def _stroke(page, points):
    """Drag the mouse through image-pixel ``points`` in the app's editor."""
    vp = page.locator("#inpaint .me-viewport")
    client = [vp.evaluate(
        "(el, p) => { const r = el.getBoundingClientRect(); const c = el.querySelector('.me-stage canvas');"
        " const b = c.getBoundingClientRect(); return [b.left + p[0] * b.width / c.width,"
        " b.top + p[1] * b.height / c.height]; }", list(p)) for p in points]
    page.mouse.move(*client[0])
    page.mouse.down()
    for x, y in client[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def test_transparent_png_is_filled_outside_unchanged(app_page, screenshot, console_errors):
    page = app_page
    hole = (96, 80, 176, 160)
    original = picture(256, 256, hole=hole)
    _edit_with(page, original, "with-hole.png")
    assert "transparent part is repainted" in page.inner_text("#inpaint-note")
    page.fill("#prompt", "a small red hot-air balloon")
    page.evaluate("document.querySelector(\'#compose\').scrollIntoView()")
    screenshot(page, "inpaint-01-transparent-reference", full_page=False)
    run = run_and_wait(page)
    assert run.get_attribute("data-state") == "done", run.inner_text()
    result = download_tile(page)
    assert result.size == original.size
    assert diff_outside(result, original, hole) == 0
    # and the hole was filled: opaque, and not the black of the transparent pixels
    filled = result.convert("RGBA").crop(hole)
    assert min(filled.getchannel("A").get_flattened_data()) == 255
    assert filled.convert("L").getextrema()[1] > 40
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "inpaint-02-transparent-result")
    assert not [e for e in console_errors if "favicon" not in e.text], console_errors


def test_painted_mask_only_painted_area_changes(app_page, screenshot):
    page = app_page
    original = picture(256, 256, mode="RGB")
    _edit_with(page, original, "opaque.png")
    page.locator("#inpaint .me-viewport").focus()
    page.keyboard.press("b")
    assert page.locator("#inpaint .me-brush").get_attribute("aria-pressed") == "true"
    page.evaluate("document.querySelector('#inpaint .me-size').value = 30;"
                  "document.querySelector('#inpaint .me-size').dispatchEvent(new Event('input'))")
    _stroke(page, [(70, 128), (128, 110), (190, 128)])
    page.fill("#prompt", "a flock of birds")
    page.evaluate("document.querySelector(\'#compose\').scrollIntoView()")
    screenshot(page, "inpaint-03-editor-painted", full_page=False)
    run = run_and_wait(page)
    assert run.get_attribute("data-state") == "done", run.inner_text()
    result = download_tile(page)
    assert result.size == (256, 256)
    painted_box = (70 - 16, 110 - 16, 190 + 16, 128 + 16)  # the stroke plus the brush radius
    assert diff_outside(result, original, painted_box, margin=2) == 0
    # inside the stroke, something new was painted
    core = result.crop((120, 108, 136, 124)).convert("RGB")
    assert diff_outside(core, original.crop((120, 108, 136, 124)).convert("RGB"), (0, 0, 0, 0)) > 20
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "inpaint-04-painted-result")


# Counts the page's JPEG decodes from here on (the sandbox answers PNG, which a paste-back
# decodes), run in the app's own interpreter (apphelpers.add_page_python).
COUNT_DECODES = """
from app.state import app
from pyscript import document
_decode = app.imaging.decode
async def _counting(data, *args, **kwargs):
    if bytes(data[:3]) == b"\\xff\\xd8\\xff":
        document.body.setAttribute("data-decodes", str(int(document.body.getAttribute("data-decodes")) + 1))
    return await _decode(data, *args, **kwargs)
app.imaging.decode = _counting
document.body.setAttribute("data-decodes", "0")
"""


def test_jpeg_reference_is_decoded_once_not_at_every_run(app_page):
    """The picture decoded when the reference was checked is the one each run prepares: a
    12 MP JPEG decoded again at every click held the request back ~150 ms. Still a JPEG's
    upload (known opaque), and still exact outside the painted area after paste-back."""
    page = app_page
    original = picture(240, 160, mode="RGB")
    upload(page, "photo.jpg", jpeg_bytes(original, quality=95), "image/jpeg")
    wait_reference(page)
    set_task(page, "edit")
    wait_editor_loaded(page)
    add_page_python(page, COUNT_DECODES)
    page.wait_for_selector("body[data-decodes='0']")
    _stroke(page, [(60, 80), (180, 80)])
    page.fill("#prompt", "a kite")
    shown = None
    for i in range(2):
        run = run_and_wait(page)
        assert run.get_attribute("data-state") == "done", run.inner_text()
        assert page.get_attribute("body", "data-decodes") == "0", f"run {i + 1} decoded the reference again"
        result = download_tile(page)
        assert result.size == (240, 160)
        shown = shown or result
    # outside the stroke, the paste-back keeps the reference's pixels (as the page decoded them)
    assert diff_outside(download_tile(page), shown, (60 - 32, 80 - 32, 180 + 32, 80 + 32), margin=2) == 0


# Watches the page's upload work (apphelpers.add_page_python): what the reference picture keeps
# made ahead, and each high-quality resize (a picture's, not a mask's) and JPEG encode after.
WATCH_UPLOAD = """
import json
from pyodide.ffi import create_proxy
from pyscript import window
import imagesynth.imaging.canvas as cv
from app.reference import state as ref_state

made = []
_resize_source, _encode = cv._resize_source, cv.CanvasImaging._encode
def _counting_resize(source, w, h, tw, th, quality="high"):
    if quality == "high":
        made.append(["resize", tw, th])
    return _resize_source(source, w, h, tw, th, quality)
async def _counting_encode(self, pic, fmt, quality, fast):
    if fmt == "jpeg":
        made.append(["jpeg", pic.width, pic.height])
    return await _encode(self, pic, fmt, quality, fast)
cv._resize_source, cv.CanvasImaging._encode = _counting_resize, _counting_encode

def _kept():
    pic = ref_state.ref.picture if ref_state.ref is not None else None
    if pic is None:
        return "[]"
    return json.dumps([[*size, sorted(made.encodings)[0][0] if made.encodings else None]
                       for size, made in pic.resized.items()])
def _made_since():
    out = json.dumps(made)
    made.clear()
    return out
window.__kept = create_proxy(_kept)
window.__madeSince = create_proxy(_made_since)
window.document.body.setAttribute("data-watch-upload", "1")
"""


def test_big_jpeg_upload_is_made_while_the_user_paints(app_page):
    """A reference beyond the model's longest edge (2048) is scaled and encoded for upload once
    the editor shows it (prepare.warm_upload): the 12 MP photo's resize and JPEG encode held
    Edit's request back ~200 ms. The run then scales and encodes nothing, and its result is
    still the reference's size, exact outside the painted area after paste-back."""
    from PIL import Image, ImageChops

    page = app_page
    ramp = Image.linear_gradient("L")
    original = Image.merge("RGB", (ramp.resize((2400, 1600)), ramp.rotate(90).resize((2400, 1600)),
                                   ramp.rotate(45).resize((2400, 1600))))
    upload(page, "big.jpg", jpeg_bytes(original, quality=90), "image/jpeg")
    wait_reference(page)
    add_page_python(page, WATCH_UPLOAD)
    page.wait_for_selector("body[data-watch-upload]")
    set_task(page, "edit")
    wait_editor_loaded(page)
    page.wait_for_function("window.__kept() === '[[2048, 1365, \"jpeg\"]]'", timeout=30_000)
    assert page.evaluate("window.__madeSince()") == '[["resize", 2048, 1365], ["jpeg", 2048, 1365]]'
    _stroke(page, [(600, 800), (1800, 800)])
    page.fill("#prompt", "a kite")
    run = run_and_wait(page)
    assert run.get_attribute("data-state") == "done", run.inner_text()
    made = json.loads(page.evaluate("window.__madeSince()"))  # the result scaled back is paste-back's
    assert [m for m in made if m[1:] == [2048, 1365]] == [], f"the run made its upload again: {made}"
    result = download_tile(page)
    assert result.size == (2400, 1600)
    # outside the stroke (and any brush size), the reference's pixels as Pillow decodes them:
    # libjpeg in Chromium and in Pillow may differ by a level or two
    reference = Image.open(io.BytesIO(jpeg_bytes(original, quality=90))).convert("RGB")
    box = (400, 600, 2000, 1000)
    patched = result.convert("RGB")
    patched.paste(reference.crop(box), box)
    assert max(hi for _, hi in ImageChops.difference(patched, reference).getextrema()) <= 3


# Starts the upload made ahead again, by hand, once the test has emptied what it kept.
WARM_AGAIN = """
import asyncio
from app import inpaint
from app.reference import state as ref_state
from pyscript import window
ref_state.ref.picture.resized.clear()
asyncio.ensure_future(inpaint._warm_upload(ref_state.ref))
window.document.body.setAttribute("data-warm-again", "1")
"""


def test_upload_made_ahead_waits_for_the_stroke_to_end(app_page):
    """Its resize holds the main thread ~100 ms: it waits while a stroke is in progress."""
    from PIL import Image

    page = app_page
    ramp = Image.linear_gradient("L").resize((2400, 1600))
    upload(page, "big.jpg", jpeg_bytes(Image.merge("RGB", (ramp, ramp, ramp)), quality=90), "image/jpeg")
    wait_reference(page)
    add_page_python(page, WATCH_UPLOAD)
    page.wait_for_selector("body[data-watch-upload]")
    set_task(page, "edit")
    wait_editor_loaded(page)
    page.wait_for_function("window.__kept() !== '[]'", timeout=30_000)  # the automatic one, done
    vp = page.locator("#inpaint .me-viewport")
    vp.scroll_into_view_if_needed()
    box = vp.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=4)
    add_page_python(page, WARM_AGAIN)
    page.wait_for_selector("body[data-warm-again]")
    page.wait_for_timeout(1500)  # five times the 0.3 s start, mid-stroke
    assert page.evaluate("window.__kept()") == "[]", "made mid-stroke"
    page.mouse.up()
    page.wait_for_function("window.__kept() === '[[2048, 1365, \"jpeg\"]]'", timeout=30_000)


def test_uploaded_mask(app_page):
    page = app_page
    original = picture(200, 200, mode="RGB")
    _edit_with(page, original, "opaque.png")
    from PIL import Image, ImageDraw

    mask = Image.new("L", (200, 200), 0)
    ImageDraw.Draw(mask).rectangle((20, 20, 80, 80), fill=255)  # white = repaint
    page.set_input_files("#inpaint .me-file", files=[{"name": "mask.png", "mimeType": "image/png",
                                                      "buffer": png_bytes(mask.convert("RGB"))}])
    page.wait_for_function("document.querySelector('#inpaint .me-undo').disabled === false")
    page.fill("#prompt", "a window")
    run = run_and_wait(page)
    assert run.get_attribute("data-state") == "done", run.inner_text()
    result = download_tile(page)
    assert diff_outside(result, original, (20, 20, 81, 81), margin=2) == 0


def test_outpaint_right(app_page, screenshot):
    page = app_page
    original = picture(256, 256, mode="RGB")
    _edit_with(page, original, "narrow.png")
    page.fill("#inpaint .me-extend-by", "128")
    page.dispatch_event("#inpaint .me-extend-by", "change")
    page.click("#inpaint .me-extend-right")
    page.wait_for_function("document.querySelector('#inpaint-note').textContent.includes('384×256')")
    page.fill("#prompt", "more of the landscape")
    page.evaluate("document.querySelector(\'#compose\').scrollIntoView()")
    screenshot(page, "inpaint-05-outpaint-editor", full_page=False)
    run = run_and_wait(page)
    assert run.get_attribute("data-state") == "done", run.inner_text()
    result = download_tile(page)
    assert result.size == (384, 256)  # wider
    assert diff_outside(result.crop((0, 0, 256, 256)), original, (0, 0, 0, 0)) == 0
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "inpaint-06-outpaint-result")
    page.emulate_media(color_scheme="dark")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(400)
    page.evaluate("document.querySelector('#compose').scrollIntoView()")
    screenshot(page, "inpaint-07-phone-dark-editor", full_page=False)
    page.emulate_media(color_scheme="light")


def test_edit_needs_a_prompt_and_a_mask(app_page):
    page = app_page
    _edit_with(page, picture(128, 128, mode="RGB"))
    page.fill("#prompt", "")
    page.click("#generate")
    page.wait_for_selector("#alerts .alert")
    assert "Describe what to paint" in page.inner_text("#alerts")
    page.fill("#prompt", "anything")
    run = run_and_wait(page)
    assert run.get_attribute("data-state") == "failed"
    assert "paint" in run.inner_text().lower()  # the core: nothing marked to repaint


def test_editor_keyboard_and_names(app_page):
    page = app_page
    _edit_with(page, picture(128, 128, mode="RGB"))
    vp = page.locator("#inpaint .me-viewport")
    assert "Mask editor" in (vp.get_attribute("aria-label") or "")
    assert vp.get_attribute("tabindex") == "0"
    # every tool is a focusable control with a name
    for sel in (".me-brush", ".me-eraser", ".me-undo", ".me-clear", ".me-invert", ".me-upload-mask",
                ".me-extend-right", ".me-fit", ".me-size"):
        node = page.locator(f"#inpaint {sel}")
        assert node.get_attribute("aria-label"), sel
        assert node.evaluate("e => e.tabIndex") >= 0, sel
    vp.focus()
    page.keyboard.press("e")
    expect(page.locator("#inpaint .me-eraser")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("b")
    # the paste-back toggle and the task switch are reachable by keyboard too
    page.locator("#paste-back").focus()
    page.keyboard.press("Space")
    expect(page.locator("#paste-back")).not_to_be_checked()
    page.locator("#task-edit").focus()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("body")).to_have_attribute("data-task", "vary")
