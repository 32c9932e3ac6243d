"""The key goes to the endpoint and nowhere else: not another request, a URL, a body, the
console, storage ("this tab only"), an export, a PNG or an error message.  And the page's CSP
lets the app run while refusing inline script."""

from __future__ import annotations

import io
import zipfile

import pytest

from apphelpers import download_bytes, generate, open_app, use_compatible, wait_run_end
from imagesynth.server.csp import FIRST_VISIT_SCRIPT

# Whether index.html's inline script had marked a first visit when the page was parsed (Python
# takes the mark over later), and every CSP violation the page reports.
FIRST_VISIT_PROBE = """
    window.__violations = [];
    document.addEventListener('securitypolicyviolation',
        (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
    document.addEventListener('DOMContentLoaded',
        () => { window.__firstVisit = document.documentElement.classList.contains('first-run'); });
"""

KEY = "sk-test-S3CRETkey-7f3a9c1e5b2d4f6a8c0e"


@pytest.fixture(scope="module")
def key_server(site_dir):
    """imagesynth serve whose sandbox accepts only KEY."""
    from harness import start_imagesynth_server

    srv = start_imagesynth_server(site_dir, sandbox_key=KEY)
    if srv is None:
        pytest.skip("needs imagesynth serve")
    yield srv
    srv.stop()


class Recorder:
    def __init__(self, context):
        self.requests = []
        self.console = []
        context.on("request", lambda r: self.requests.append(r))
        context.on("page", lambda p: p.on("console", lambda m: self.console.append(m.text)))


def _storage_dump(page) -> str:
    """Everything the origin stored: localStorage, sessionStorage, every IndexedDB record (Blobs read)."""
    return page.evaluate("""async () => {
        const out = [];
        for (const s of [localStorage, sessionStorage])
            for (let i = 0; i < s.length; i++) out.push(s.key(i) + '=' + s.getItem(s.key(i)));
        const read = async (v) => {
            if (v instanceof Blob) return new TextDecoder('latin1').decode(await v.arrayBuffer());
            if (v && typeof v === 'object') {
                const parts = [];
                for (const k of Object.keys(v)) parts.push(k + ':' + await read(v[k]));
                return parts.join(',');
            }
            return String(v);
        };
        for (const info of await indexedDB.databases()) {
            const db = await new Promise((res, rej) => { const r = indexedDB.open(info.name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
            for (const name of db.objectStoreNames) {
                const all = await new Promise((res) => { const r = db.transaction(name).objectStore(name).getAll(); r.onsuccess = () => res(r.result); });
                for (const v of all) out.push(info.name + '/' + name + ':' + await read(v));
            }
            db.close();
        }
        return out.join('\\n');
    }""")


def _check_requests(rec: Recorder, server_url: str) -> int:
    """The key only in the Authorization header of requests to the endpoint; returns how many."""
    carried = 0
    for r in rec.requests:
        assert KEY not in r.url, r.url
        body = r.post_data_buffer or b""
        assert KEY.encode() not in body, r.url
        headers = r.headers
        for name, value in headers.items():
            if KEY in value:
                assert name.lower() == "authorization", (name, r.url)
                assert r.url.startswith(server_url + "/v1/"), r.url
                carried += 1
    return carried


def test_key_only_in_requests_to_the_endpoint(browser, key_server, tmp_path, screenshot):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    rec = Recorder(context)
    try:
        page = context.new_page()
        open_app(page, key_server)
        use_compatible(page, key_server.url + "/v1", KEY, remember=False)
        page.wait_for_selector("#conn-status[data-state=ok]", timeout=30_000)
        generate(page, "a key-safe kestrel", n=2, size="Small")
        assert page.locator("#gallery .tile").count() == 2
        # the key went with the requests to the endpoint, and only there
        assert _check_requests(rec, key_server.url) >= 1
        # "this tab only": nowhere in storage
        dump = _storage_dump(page)
        assert "a key-safe kestrel" in dump  # the dump does see the history
        assert KEY not in dump
        # not in an export, not in a PNG
        _, zipdata = download_bytes(page, "#gallery-export")
        assert KEY.encode() not in zipdata
        with zipfile.ZipFile(io.BytesIO(zipdata)) as zf:
            for name in zf.namelist():
                assert KEY.encode() not in zf.read(name)
        page.locator("#gallery .tile .thumb").first.click()
        _, png = download_bytes(page, "#lightbox-download")
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and KEY.encode() not in png
        page.keyboard.press("Escape")
        # not in a share link
        page.click("#copy-link")
        assert KEY not in page.input_value("#share-link")
        # not on the page (the key field aside) nor in the console
        assert KEY not in page.content() and KEY not in page.inner_text("body")  # (an input's value is no attribute)
        assert not [m for m in rec.console if KEY in m]
        # after a reload the tab-only key is gone
        page.reload()
        page.wait_for_selector("body[data-wired]", timeout=60_000)
        assert page.input_value("#api-key") == ""
        assert KEY not in _storage_dump(page)
        _check_requests(rec, key_server.url)
    finally:
        context.close()


def test_wrong_key_error_does_not_echo_it(browser, key_server):
    wrong = "sk-wrong-Z9y8X7w6V5u4T3s2R1q0"
    context = browser.new_context()
    rec = Recorder(context)
    try:
        page = context.new_page()
        open_app(page, key_server)
        use_compatible(page, key_server.url + "/v1", wrong, remember=False)
        page.wait_for_timeout(1500)
        page.fill("#prompt", "with the wrong key")
        page.click("#generate")
        page.wait_for_timeout(3000)
        assert wrong not in page.content() and wrong not in page.inner_text("body")
        assert not [m for m in rec.console if wrong in m]
        for r in rec.requests:
            assert wrong not in r.url
            assert wrong.encode() not in (r.post_data_buffer or b"")
    finally:
        context.close()


def test_remembered_key_is_in_local_storage_only(browser, key_server):
    context = browser.new_context()
    try:
        page = context.new_page()
        open_app(page, key_server)
        use_compatible(page, key_server.url + "/v1", KEY, remember=True)
        page.wait_for_selector("#conn-status[data-state=ok]", timeout=30_000)
        generate(page, "remembered", n=1, size="Small")
        assert page.evaluate("localStorage.getItem('imagesynth.key')") == KEY
        dump = _storage_dump(page)
        assert dump.count(KEY) == 1  # the one localStorage entry: not IndexedDB, not sessionStorage
    finally:
        context.close()


def test_csp_meta_lets_the_app_run_on_a_static_host(page, static_server, screenshot):
    """A static host sends no CSP header: the <meta> policy alone applies, and the app boots under it."""
    page.add_init_script(FIRST_VISIT_PROBE)
    open_app(page, static_server)
    assert page.evaluate("window.__firstVisit") is True  # the page's inline script ran
    policy = page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content")
    assert f"script-src 'self' {FIRST_VISIT_SCRIPT} 'wasm-unsafe-eval'" in policy
    assert "'unsafe-inline'" not in policy.split("style-src")[0]
    assert "connect-src 'self' https: http://localhost:* http://127.0.0.1:*" in policy
    assert page.evaluate("window.__violations") == []
    # an inline script (what an injected prompt would need) is refused
    page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'document.body.dataset.inline = "ran"'; document.body.appendChild(s); }""")
    page.wait_for_timeout(300)
    assert page.get_attribute("body", "data-inline") is None
    assert any("script-src" in v for v in page.evaluate("window.__violations"))


def test_csp_header_and_meta_both_allow_the_app(page, server):
    if server.kind != "imagesynth":
        pytest.skip("needs imagesynth serve")
    page.add_init_script(FIRST_VISIT_PROBE)
    resp = page.goto(server.url + "/")
    header = resp.headers.get("content-security-policy", "")
    assert FIRST_VISIT_SCRIPT in header
    page.wait_for_selector("body[data-wired]", timeout=60_000)
    # the page's inline script ran under both policies: a first visit's card was there from the start
    assert page.evaluate("window.__firstVisit") is True
    assert page.evaluate("window.__violations") == []
