"""The page, end to end against the sandbox: generate, stream, cancel, faults, hostile prompts."""

from __future__ import annotations

import time

import pytest

from apphelpers import alert_titles, generate, image_sizes, no_traceback, open_app, use_sandbox, wait_run_end

pytestmark = pytest.mark.usefixtures("server")



def test_shell_paints_before_python(page, server, runtime_info, screenshot):
    """The layout and the prompt box work before Python is ready; Python-bound controls say so.
    Python started from the build's stdlib bytecode (no module compiled on the way)."""
    page.goto(server.url + "/", wait_until="commit")
    page.wait_for_selector("#prompt")
    # Typing works at once, whatever Python is doing.
    page.fill("#prompt", "typed before Python was ready")
    # read together: Python may finish starting between two separate reads
    booting, disabled, label = page.evaluate("""() => [document.body.classList.contains('booting'),
        document.querySelector('#generate').disabled, document.querySelector('#generate').innerText]""")
    if booting:
        assert disabled and "Starting Python" in label, (disabled, label)
        screenshot(page, "app-01-booting")
    page.wait_for_selector("body[data-wired]", timeout=60_000)
    assert page.input_value("#prompt") == "typed before Python was ready"
    assert page.locator("#generate").is_enabled()
    assert page.inner_text("#generate").strip() == "Generate"
    boot = dict(kv.split("=") for kv in page.get_attribute("body", "data-boot").split())
    if runtime_info["stdlib_bytecode"]:
        assert boot["stdlib-compiled"] == "0", boot  # a start-up module the build missed
    else:
        assert int(boot["stdlib-compiled"]) > 50, boot  # sources only: the count means what it says
    assert int(boot["app-zipped"]) > 20, boot  # the core and the app imported from their zips
    if runtime_info["bytecode"]:
        assert boot["app-compiled"] == "0", boot  # a pyc zipimport passed over (or none beside it)
    else:
        assert boot["app-compiled"] == boot["app-zipped"], boot
    used, imported = map(int, boot["pyscript-pyc"].split("/"))
    assert imported > 5, boot  # PyScript's own package, imported from the files it wrote
    assert used == (imported if runtime_info["pyscript_bytecode"] else 0), boot


def test_pyscript_bytecode_that_does_not_match_is_not_used(page, server, context):
    """The build's pycs for PyScript's package are checked against the sources PyScript writes:
    one made from another source is passed over (its module compiled from the source PyScript
    wrote), and the app starts."""
    import base64
    import json

    def tamper(route):
        data = json.loads(route.fetch().text())
        if not data["files"]:
            pytest.skip("the build made no bytecode for PyScript's package (no Node.js)")
        # the package's __init__ gets util's pyc: used, `from pyscript import window` would fail
        init, util = (next(n for n in data["files"] if f"/{m}." in n) for m in ("__init__", "util"))
        data["files"][init] = data["files"][util]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(data))

    context.route("**/py/pyscript-bytecode.*json", tamper)  # the build's versioned copy (build/versions.py)
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-wired]", timeout=60_000)
    boot = dict(kv.split("=") for kv in page.get_attribute("body", "data-boot").split())
    used, imported = map(int, boot["pyscript-pyc"].split("/"))
    assert used == imported - 1 and imported > 5, boot
    assert page.locator("#generate").is_enabled()


@pytest.mark.parametrize("missing", ["pyodide.asm.wasm", "python_stdlib.zip", "pyodide.mjs"])
def test_runtime_that_cannot_load_is_said_at_once(page, server, screenshot, missing):
    """A file of the Python runtime missing (an incomplete static upload): the boot line says
    which, within seconds, not after shell.js's 45 s "taking unusually long". (A missing wasm
    never makes Pyodide's start fail, it only prints; the page sees the 404 itself.)"""
    page.route(f"**/{missing}", lambda route: route.fulfill(status=404, body="not found"))
    page.clock.install()  # real time flows; run_for() below skips ahead
    page.goto(server.url + "/")
    page.wait_for_selector("body.boot-failed", timeout=15_000)
    text = page.inner_text("#boot-text")
    assert text.startswith("Python could not start in this browser ("), text
    assert missing in text, text  # which file, not the runtime's "exit(1)"
    assert "imagesynth build" in text and "Traceback" not in text
    assert page.locator("#prompt").is_editable()  # what was typed is not lost
    assert page.inner_text("#generate") == "Python did not start"
    page.clock.run_for(60_000)  # shell.js's "taking unusually long" (45 s) must not replace it
    assert page.inner_text("#boot-text") == text
    if missing.endswith(".wasm"):
        screenshot(page, "app-01b-runtime-failed")


def test_app_package_that_cannot_be_imported_is_said(page, server):
    """app.zip served without the app in it (an incomplete upload): main.py, the one module
    PyScript runs from source, says so in the boot line; no traceback on the page."""
    import io
    import zipfile

    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    page.route("**/py/app.*zip", lambda route: route.fulfill(status=200, content_type="application/zip",
                                                             body=empty.getvalue()))
    page.goto(server.url + "/")
    page.wait_for_function("document.getElementById('boot-text').textContent.includes('could not start')",
                           timeout=60_000)
    text = page.inner_text("#boot-text")
    assert text.startswith("The app could not start in this browser.") and "imagesynth build" in text, text
    assert "Traceback" not in page.inner_text("body")
    assert page.locator("#prompt").is_editable()


def test_first_run_sandbox_three_small_images(app_page, screenshot, console_errors):
    page = app_page
    # The first screen offered the sandbox (served by imagesynth serve) and it is now in use.
    assert "Sandbox" in page.inner_text("#conn-status")
    assert page.locator("#connect").is_hidden()
    run = generate(page, "three small lighthouses", n=3, size="Small")
    assert run.get_attribute("data-state") == "done", run.inner_text()
    assert page.locator("#gallery .tile").count() == 3
    assert image_sizes(page) == [(256, 256)] * 3
    # every image was saved before it was shown
    assert page.eval_on_selector_all("#gallery .tile", "els => els.map(e => e.dataset.saved)") == ["1"] * 3
    assert all("three small lighthouses" in t for t in page.locator("#gallery .tile .prompt-text").all_inner_texts())
    screenshot(page, "app-03-three-small-images")
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(400)  # let colour transitions finish
    screenshot(page, "app-12-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "app-13-phone-dark")
    page.emulate_media(color_scheme="light")
    assert not [e for e in console_errors if "favicon" not in e.text], console_errors


def test_streaming_shows_partial_previews(app_page, screenshot):
    page = app_page
    page.select_option("#model", "gpt-image-1")
    assert page.locator("#param-stream").is_checked()
    run = generate(page, "a streamed comet", n=1, size="Small", stream=True)
    assert run.get_attribute("data-state") == "done", run.inner_text()
    row = run.locator(".row").first
    assert int(row.get_attribute("data-partials") or 0) >= 1
    assert page.locator("#gallery .tile").count() == 1


@pytest.fixture(scope="module")
def slow_stream_server(site_dir):
    """imagesynth serve with a pause between stream events, so partial previews can be watched."""
    from harness import start_imagesynth_server

    srv = start_imagesynth_server(site_dir, stream_delay=1.5)
    if srv is None:
        pytest.skip("needs imagesynth serve")
    yield srv
    srv.stop()


def test_partial_previews_visible_while_streaming(page, slow_stream_server, screenshot):
    open_app(page, slow_stream_server)
    use_sandbox(page)
    page.select_option("#model", "gpt-image-1")
    run = generate(page, "a comet, streamed slowly", n=2, size="Small", stream=True, wait=False)
    preview = run.locator(".row-preview[data-partial='1']").first
    preview.wait_for(timeout=30_000)
    assert "Preview" in run.inner_text()
    assert page.evaluate("img => img.naturalWidth > 0", preview.element_handle()) or preview.evaluate(
        "img => img.decode().then(() => img.naturalWidth > 0)")
    screenshot(page, "app-15-streaming-previews")
    run = wait_run_end(page, timeout=60_000)
    assert run.get_attribute("data-state") == "done", run.inner_text()


def test_model_table_decides_controls(app_page):
    page = app_page
    models = page.eval_on_selector_all("#model option", "els => els.map(e => e.value)")
    assert "gpt-image-1" in models
    page.select_option("#model", "gpt-image-1")
    for name in ("quality", "background", "output_format"):
        assert page.locator(f"#param-{name}").count() == 1, name
    assert page.locator("#param-style").count() == 0
    assert page.locator("#param-stream").count() == 1
    if "dall-e-3" in models:
        page.select_option("#model", "dall-e-3")
        assert page.locator("#param-style").count() == 1
        assert page.locator("#param-background").count() == 0
        assert page.locator("#param-stream").count() == 0


def test_cancel_really_aborts(app_page, screenshot):
    page = app_page
    failed = []
    page.on("requestfailed", lambda r: failed.append((r.url, r.failure)))
    run = generate(page, "[[sandbox:slow:10]] a very slow painting", n=1, size="Small", wait=False)
    page.wait_for_selector("#runs .run:first-child .row[data-stage=waiting]")
    # the elapsed time ticks (waited for: on a loaded machine the first tick can come late)
    page.wait_for_function("() => { const t = document.querySelector('#runs .run:first-child .row-time');"
                           " return t && t.textContent.trim() !== '' && t.textContent.trim() !== '0.0 s'; }",
                           timeout=15_000)
    assert run.locator(".row-time").first.inner_text().strip() != "0.0 s"
    screenshot(page, "app-04-in-progress")
    started = time.monotonic()
    run.locator("button", has_text="Cancel").click()
    run = wait_run_end(page, timeout=5_000)
    assert time.monotonic() - started < 3
    assert run.get_attribute("data-state") == "cancelled"
    assert "Cancelled" in run.inner_text()
    # the aborted request's "requestfailed" event can reach us a little after the page says so
    deadline = time.monotonic() + 10
    while not any("/v1/images/generations" in url for url, _ in failed) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert any("/v1/images/generations" in url for url, _ in failed), failed
    assert page.locator("#gallery .tile").count() == 0
    screenshot(page, "app-05-cancelled")


def test_rate_limit_recovered_by_retry(app_page, screenshot):
    page = app_page
    run = generate(page, "[[sandbox:rate_limit:1]] patience", n=1, size="Small", stream=False)
    assert run.get_attribute("data-state") == "done", run.inner_text()
    row = run.locator(".row").first
    assert int(row.get_attribute("data-retries") or 0) >= 1
    assert "retr" in row.inner_text().lower() and "rate limited" in row.inner_text().lower()
    assert page.locator("#gallery .tile").count() == 1


@pytest.mark.parametrize("fault,title,shot", [
    ("quota", "Out of credits", "app-06-error-quota"),
    ("moderation_input", "Refused by the safety system", "app-07-error-moderation"),
    ("moderation_output", "Refused by the safety system", None),
    ("org_verification", "Not allowed for this model", None),
    ("stream_error", None, None),
])
def test_fault_shown_as_clear_message(app_page, screenshot, fault, title, shot):
    page = app_page
    run = generate(page, f"[[sandbox:{fault}]] a fault test", n=1, size="Small", timeout=90_000)
    text = run.inner_text()
    if fault == "stream_error" and run.get_attribute("data-state") == "done":
        return  # a stream error the core retried successfully is fine too
    assert run.get_attribute("data-state") == "failed", text
    titles = alert_titles(run)
    assert titles, text
    if title:
        assert title in titles, titles
    message = run.locator(".alert .alert-text").first.inner_text()
    assert len(message) > 20 and no_traceback(message), message
    assert "sk-sandbox" not in text
    assert page.locator("#gallery .tile").count() == 0
    if shot:
        screenshot(page, shot)


def test_hostile_prompt_renders_as_text(app_page, context, screenshot):
    page = app_page
    hostile = ('<script type="py">from pyscript import document; document.body.setAttribute("data-pwned", "py")'
               '</script><img src=x onerror="document.body.setAttribute(\'data-pwned\', \'img\')"> <b>bold</b>')
    run = generate(page, hostile, n=1, size="Small")
    assert run.get_attribute("data-state") == "done", run.inner_text()
    page.wait_for_timeout(1500)  # give any injected script the chance to run
    assert page.get_attribute("body", "data-pwned") is None
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("#gallery script, #runs script, #gallery b, #runs b").count() == 0
    assert page.locator("#gallery .tile .prompt-text").first.inner_text() == hostile
    assert hostile in page.locator("#runs .run").first.inner_text()
    assert not [u for u in context.requests if u.rstrip("/").endswith("/x")]
    # the large view shows it as text too
    page.locator("#gallery .tile .thumb").first.click()
    page.wait_for_selector("#lightbox[open]")
    assert page.inner_text("#lightbox-prompt") == hostile
    assert page.get_attribute("body", "data-pwned") is None
    screenshot(page, "app-08-hostile-prompt-as-text", full_page=False)


def test_lightbox_download_and_history_after_reload(app_page, context, server, screenshot):
    page = app_page
    generate(page, "a keeper", n=1, size="Medium")
    page.locator("#gallery .tile .thumb").first.click()
    page.wait_for_selector("#lightbox[open]")
    assert page.inner_text("#lightbox-prompt") == "a keeper"
    assert "512x512" in page.inner_text("#lightbox-params")
    screenshot(page, "app-09-lightbox", full_page=False)
    with page.expect_download() as dl:
        page.click("#lightbox-download")
    download = dl.value
    assert download.suggested_filename.endswith(".png")
    data = open(download.path(), "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"a keeper" in data  # the parameters are inside the PNG
    # Copy puts a PNG on the clipboard
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page.click("#lightbox-copy")
    page.wait_for_function("document.getElementById('lightbox-note').textContent.length > 0")
    assert page.inner_text("#lightbox-note") == "Copied to the clipboard."
    types = page.evaluate("async () => (await navigator.clipboard.read()).flatMap(i => i.types)")
    assert "image/png" in types
    page.keyboard.press("Escape")
    page.wait_for_selector("#lightbox:not([open])", state="attached")
    # history survives a reload, newest first
    generate(page, "the newest", n=1, size="Small")
    page.reload()
    page.wait_for_selector("body[data-wired]", timeout=60_000)
    prompts = page.locator("#gallery .tile .prompt-text").all_inner_texts()
    assert prompts[:2] == ["the newest", "a keeper"], prompts


def test_ctrl_enter_generates(app_page):
    page = app_page
    page.fill("#prompt", "keyboard only")
    page.fill("#n", "1")
    page.select_option("#size", "Small")
    page.focus("#prompt")
    page.keyboard.press("Control+Enter")
    run = wait_run_end(page)
    assert run.get_attribute("data-state") == "done"
    assert page.locator("#gallery .tile").count() == 1


def test_bad_input_is_explained(app_page):
    page = app_page
    page.fill("#prompt", "")
    page.click("#generate")
    alert = page.locator("#alerts .alert").first
    alert.wait_for()
    assert "Type a description" in alert.inner_text()
    page.fill("#prompt", "too many")
    page.fill("#n", "11")
    page.click("#generate")
    page.wait_for_function("document.querySelector('#alerts').innerText.includes('1 to 10')")


def test_custom_size(app_page):
    page = app_page
    page.fill("#prompt", "a wide banner")
    page.fill("#n", "1")
    page.select_option("#size", "custom")
    page.fill("#width", "320")
    page.fill("#height", "200")
    page.click("#generate")
    run = wait_run_end(page)
    assert run.get_attribute("data-state") == "done", run.inner_text()
    assert image_sizes(page) == [(320, 200)]


def test_storage_refusal_still_shows_the_image(page, server, screenshot):
    """If the browser will not store an image, it is still shown, with a warning and Download."""
    if not server.sandbox:
        pytest.skip("needs imagesynth serve's sandbox endpoint")
    page.add_init_script("""
        const put = IDBObjectStore.prototype.put;
        IDBObjectStore.prototype.put = function (...args) {
            if (this.name !== 'images') return put.apply(this, args);  // PyScript's own cache works
            throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        };
    """)
    open_app(page, server)
    use_sandbox(page)
    run = generate(page, "an image the disk has no room for", n=1, size="Small")
    assert run.get_attribute("data-state") == "done", run.inner_text()
    tile = page.locator("#gallery .tile").first
    assert tile.get_attribute("data-saved") == "0"
    assert "Not saved" in tile.locator(".tile-note").inner_text()
    assert "Not saved" in alert_titles(page.locator("#alerts"))
    assert tile.locator("a[download]").count() == 1
    screenshot(page, "app-14-storage-full")
