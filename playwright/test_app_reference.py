"""Reference images in the page: file picker, drop, paste, "Use as reference", bad uploads, variations."""

from __future__ import annotations

import base64

import pytest

from apphelpers import generate, no_traceback
from refhelpers import (download_tile, huge_png_header, jpeg_bytes, picture, png_bytes,
                        run_and_wait, set_task, similarity, upload, wait_reference)

pytestmark = pytest.mark.usefixtures("server")



def _error_text(page) -> str:
    page.wait_for_selector("#reference-errors .alert", timeout=30_000)
    return page.inner_text("#reference-errors")


# (file name, bytes, mime, words the message must hold)
_GOOD = png_bytes(picture(64, 64))
BAD_UPLOADS = [
    ("notes.png", b"These are my shopping notes, not a picture.\n" * 20, "image/png", ["not an image", "PNG"]),
    ("cut.png", _GOOD[: len(_GOOD) // 2], "image/png", ["truncated"]),
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
     "image/svg+xml", ["SVG", "not accepted", "PNG"]),
    ("huge.png", huge_png_header(40000, 40000), "image/png", ["too many pixels", "40000 x 40000", "megapixels"]),
]


@pytest.mark.parametrize("name,data,mime,words", BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
def test_bad_upload_says_why(app_page, name, data, mime, words, screenshot):
    page = app_page
    page.check("#task-vary")
    upload(page, name, data, mime)
    text = _error_text(page)
    for w in words:
        assert w.lower() in text.lower(), (w, text)
    assert name in text  # which file it was
    assert no_traceback(text)
    assert page.get_attribute("body", "data-reference") is None
    if name == "huge.png":
        screenshot(page, "ref-01-bad-upload-huge", full_page=False)


def test_over_byte_limit_dropped_file(app_page, screenshot):
    """A 51 MB file dropped on the page: refused by its size, before any of it is decoded."""
    page = app_page
    page.evaluate("""() => {
        const head = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        const file = new File([head, new Uint8Array(51 * 1024 * 1024)], 'enormous.png', {type: 'image/png'});
        const dt = new DataTransfer();
        dt.items.add(file);
        document.body.dispatchEvent(new DragEvent('dragenter', {dataTransfer: dt, bubbles: true}));
        document.body.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
        document.querySelector('#prompt').dispatchEvent(
            new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""")
    text = _error_text(page)
    assert "too big" in text and "51 MB" in text and "50 MB" in text, text
    assert "enormous.png" in text
    assert page.get_attribute("body", "data-dragging") is None
    screenshot(page, "ref-02-bad-upload-too-big", full_page=False)


def test_drop_jpeg_and_make_three_variations(app_page, screenshot, console_errors):
    page = app_page
    ref = picture(320, 240, mode="RGB")
    data = jpeg_bytes(ref)
    b64 = base64.b64encode(data).decode()
    page.evaluate("""(b64) => {
        const bin = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bin], 'holiday.jpg', {type: 'image/jpeg'}));
        document.querySelector('#compose').dispatchEvent(
            new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""", b64)
    assert wait_reference(page) == "320x240"
    # dropping while on "Generate" switches to Variations
    assert page.get_attribute("body", "data-task") == "vary"
    assert page.locator("#reference-preview").is_visible()
    assert "holiday.jpg" in page.inner_text("#reference")
    assert page.locator("#prompt").is_hidden()
    page.fill("#n", "3")
    page.select_option("#size", "Small")
    screenshot(page, "ref-03-variations-reference", full_page=False)
    run = run_and_wait(page, "#generate")
    assert run.get_attribute("data-state") == "done", run.inner_text()
    assert "Variations of holiday.jpg" in run.inner_text()
    assert page.locator("#gallery .tile").count() == 3
    for i in range(3):
        im = download_tile(page, i)
        assert im.size == (256, 256)
        sim = similarity(im, ref.resize((256, 256)))
        assert sim > 0.5, (i, sim)
    screenshot(page, "ref-04-three-variations")
    assert not [e for e in console_errors if "favicon" not in e.text], console_errors


def test_use_history_image_as_reference(app_page, screenshot):
    page = app_page
    run = generate(page, "a red kite", n=1, size="Small")
    assert run.get_attribute("data-state") == "done"
    tile = page.locator("#gallery .tile").first
    tile.locator(".use-ref").click()
    assert wait_reference(page) == "256x256"
    assert page.get_attribute("body", "data-task") == "vary"
    # and from the large view, into Edit
    set_task(page, "edit")
    page.locator("#gallery .tile .thumb").first.click()
    page.wait_for_selector("#lightbox[open]")
    page.evaluate("document.body.removeAttribute('data-reference')")
    page.click("#lightbox .use-ref")
    assert wait_reference(page) == "256x256"
    assert not page.locator("#lightbox").evaluate("d => d.open")
    page.wait_for_selector("#inpaint[data-loaded='1'] .me-viewport", timeout=30_000)
    assert page.get_attribute("body", "data-task") == "edit"


def test_paste_from_clipboard(app_page, context, server):
    page = app_page
    data = png_bytes(picture(96, 80))
    b64 = base64.b64encode(data).decode()
    pasted = False
    try:  # a real clipboard paste, where headless Chromium allows it
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        page.evaluate("""async (b64) => {
            const bin = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            await navigator.clipboard.write([new ClipboardItem({'image/png': new Blob([bin], {type: 'image/png'})})]);
        }""", b64)
        page.click("#gallery-title")  # focus outside any text field
        page.keyboard.press("Control+V")
        page.wait_for_selector("body[data-reference]", timeout=5_000)
        pasted = True
    except Exception:
        pass
    if not pasted:  # else a synthetic paste event carrying a File
        page.evaluate("""(b64) => {
            const bin = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bin], 'image.png', {type: 'image/png'}));
            document.body.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
        }""", b64)
    assert wait_reference(page) == "96x80"
    assert "Pasted image" in page.inner_text("#reference")
    print(f"paste: {'real clipboard' if pasted else 'synthetic paste event'}")


def test_paste_text_into_prompt_stays_text(app_page):
    page = app_page
    page.evaluate("""() => {
        const dt = new DataTransfer();
        dt.setData('text/plain', 'a cat');
        dt.items.add(new File([new Uint8Array([1, 2, 3])], 'x.png', {type: 'image/png'}));
        document.querySelector('#prompt').dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
    }""")
    page.wait_for_timeout(300)
    assert page.locator("#reference-errors .alert").count() == 0
    assert page.get_attribute("body", "data-task") == "generate"


def _exif_rotated_jpeg() -> bytes:
    """A 320x240 JPEG whose EXIF says "rotate 90° clockwise to display" (so it shows 240x320)."""
    import io

    im = picture(320, 240, mode="RGB")
    exif = im.getexif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def _animated_gif() -> bytes:
    import io

    frames = [picture(60, 40, mode="RGB").convert("P"), picture(60, 40, mode="RGB").rotate(180).convert("P")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def _webp() -> bytes:
    import io

    buf = io.BytesIO()
    picture(50, 70).save(buf, "WEBP", lossless=True)
    return buf.getvalue()


GOOD_UPLOADS = [
    ("rotated.jpg", _exif_rotated_jpeg, "image/jpeg", "240x320"),  # EXIF orientation applied
    ("moving.gif", _animated_gif, "image/gif", "60x40"),  # first frame
    ("alpha.webp", _webp, "image/webp", "50x70"),
]


@pytest.mark.parametrize("name,make,mime,size", GOOD_UPLOADS, ids=[g[0] for g in GOOD_UPLOADS])
def test_accepted_formats(app_page, name, make, mime, size):
    page = app_page
    upload(page, name, make(), mime)
    assert wait_reference(page) == size
    assert page.locator("#reference-errors .alert").count() == 0
    assert name in page.inner_text("#reference")
    # the preview shows it the same way round
    nat = page.eval_on_selector("#reference-img", "img => img.decode().then(() => [img.naturalWidth, img.naturalHeight])")
    assert f"{nat[0]}x{nat[1]}" == size
