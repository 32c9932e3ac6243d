"""The first screen: choosing the endpoint, testing it, keeping or forgetting the key."""

from __future__ import annotations

import pytest

from apphelpers import alert_titles, no_traceback, open_app, use_compatible, use_sandbox

pytestmark = pytest.mark.usefixtures("server")

KEY = "sk-sandbox"


@pytest.fixture
def sandbox_server(server):
    if not server.sandbox:
        pytest.skip("needs imagesynth serve's sandbox endpoint")
    return server


def test_first_screen_offers_the_sandbox(page, sandbox_server, screenshot):
    open_app(page, sandbox_server)
    page.wait_for_selector("#provider-sandbox-label:not([hidden])")
    assert page.locator("#connect").is_visible()
    assert page.locator("#provider-sandbox").is_checked()  # preselected when this server has one
    assert page.inner_text("#conn-status") == "Not connected"
    screenshot(page, "app-02-first-screen")
    page.click("#test-connection")
    page.wait_for_selector("#connect-result .models li")
    listed = page.locator("#connect-result .models li").all_inner_texts()
    assert "gpt-image-1" in listed
    use_sandbox(page)
    assert page.locator("#connect").is_hidden()
    assert page.locator("#model").is_enabled()


def test_provider_fields(page, sandbox_server):
    open_app(page, sandbox_server)
    page.check("#provider-openai")
    assert page.locator("#api-key").is_visible()
    assert page.locator("#base-url").is_hidden()
    page.check("#provider-azure")
    for sel in ("#base-url", "#deployment", "#api-version", "#api-key"):
        assert page.locator(sel).is_visible(), sel
    assert page.inner_text("#base-url-label") == "Endpoint"
    page.check("#provider-compatible")
    assert page.locator("#base-url").is_visible()
    assert page.locator("#deployment").is_hidden()
    # missing fields are named, nothing is sent
    page.fill("#base-url", "")
    page.fill("#api-key", "")
    page.click("#use-connection")
    page.wait_for_selector("#connect-result .alert")
    text = page.inner_text("#connect-result")
    assert "base URL" in text and "key" in text


def test_bad_key_is_explained(page, sandbox_server, screenshot):
    open_app(page, sandbox_server)
    use_compatible(page, sandbox_server.url + "/v1", "sk-wrong-key-123", remember=False)
    page.wait_for_selector("#connect-result .alert")
    titles = alert_titles(page.locator("#connect-result"))
    assert "Key refused" in titles, titles
    text = page.inner_text("#connect-result")
    assert no_traceback(text)
    assert "sk-wrong-key-123" not in text
    assert page.get_attribute("#conn-status", "data-state") == "error"
    screenshot(page, "app-10-error-bad-key")


def test_unreachable_endpoint_is_explained(page, sandbox_server):
    open_app(page, sandbox_server)
    # a closed local port: the fetch fails the way a CORS refusal does
    use_compatible(page, "http://127.0.0.1:9/v1", "sk-anything", remember=False)
    page.wait_for_selector("#connect-result .alert", timeout=40_000)
    text = page.inner_text("#connect-result")
    assert "Can't reach the endpoint" in text
    assert "CORS" in text
    assert "sk-anything" not in text


def test_tab_only_key_is_gone_after_reload(page, sandbox_server):
    open_app(page, sandbox_server)
    use_compatible(page, sandbox_server.url + "/v1", KEY, remember=False)
    page.wait_for_selector("#conn-status[data-state=ok]")
    stored = page.evaluate("JSON.stringify(Object.entries(localStorage))")
    assert KEY not in stored  # "this tab only" never touches storage
    page.reload()
    page.wait_for_selector("body[data-wired]", timeout=60_000)
    page.wait_for_selector("#conn-status[data-state=error]")
    assert "key needed" in page.inner_text("#conn-status")
    assert page.input_value("#api-key") == ""
    assert page.locator("#connect").is_visible()
    assert page.input_value("#base-url") == sandbox_server.url + "/v1"  # the rest is remembered
    assert "Paste your key again" in page.inner_text("#connect-result")


def test_remembered_key_survives_reload_until_forgotten(page, sandbox_server, screenshot):
    open_app(page, sandbox_server)
    use_compatible(page, sandbox_server.url + "/v1", KEY, remember=True)
    page.wait_for_selector("#conn-status[data-state=ok]")
    page.reload()
    page.wait_for_selector("body[data-wired]", timeout=60_000)
    page.wait_for_selector("#conn-status[data-state=ok]")
    assert "OpenAI-compatible" in page.inner_text("#conn-status")
    page.click("#open-connect")
    assert page.input_value("#api-key") == KEY
    page.click("#forget-key")
    page.wait_for_selector("#connect-result .alert")
    assert page.input_value("#api-key") == ""
    assert KEY not in page.evaluate("JSON.stringify(Object.entries(localStorage))")
    page.reload()
    page.wait_for_selector("body[data-wired]", timeout=60_000)
    page.wait_for_selector("#conn-status[data-state=error]")
    assert page.input_value("#api-key") == ""


def test_about_panel(page, sandbox_server, runtime_info, screenshot):
    open_app(page, sandbox_server)
    page.click("#open-about")
    page.wait_for_selector("#about[open]")
    text = page.inner_text("#about-list")
    assert "imagesynth" in text
    assert runtime_info["pyscript"] in text
    assert runtime_info["pyodide"] in text
    assert ("Pillow" in text) if runtime_info.get("pillow") else ("canvas" in text.lower())
    screenshot(page, "app-11-about", full_page=False)
    page.keyboard.press("Escape")
    page.wait_for_selector("#about:not([open])", state="attached")


def test_keyboard_reaches_everything(page, sandbox_server):
    open_app(page, sandbox_server)
    use_sandbox(page)
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement && (document.activeElement.id || document.activeElement.textContent.trim())"))
    for wanted in ("open-connect", "open-about", "prompt", "n", "size", "model", "generate"):
        assert wanted in seen, (wanted, seen)
    # every form control has an accessible name
    unnamed = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea, button')]
        .filter(e => e.offsetParent !== null)
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
        .map(e => e.id || e.outerHTML.slice(0, 60))""")
    assert unnamed == []


# The models listing held back for a moment, in the page (deterministic, unlike a timed click).
SLOW_MODELS_JS = """
(() => {
  const fetch0 = window.fetch;
  window.fetch = async function (input, init) {
    const url = String(input && input.url || input);
    if (url.endsWith('/v1/models')) await new Promise((r) => setTimeout(r, 1500));
    return fetch0.call(this, input, init);
  };
})();
"""


def test_generate_right_after_use_connection_waits_for_it(page, sandbox_server):
    """Ctrl+Enter pressed while the chosen connection is still being checked runs with it,
    rather than asking the user to choose a connection they have just chosen."""
    page.add_init_script(SLOW_MODELS_JS)
    open_app(page, sandbox_server)
    page.wait_for_selector("#provider-sandbox-label:not([hidden])")
    page.click("#use-connection")
    page.wait_for_selector("#conn-status[data-state=busy]")
    page.fill("#prompt", "chosen a moment ago")
    page.press("#prompt", "Control+Enter")
    page.wait_for_selector("#runs .run", timeout=30_000)
    assert not alert_titles(page.locator("#alerts")), alert_titles(page.locator("#alerts"))
    page.wait_for_function("document.querySelector('#runs .run').getAttribute('data-state') === 'done'",
                           timeout=60_000)
    assert page.inner_text("#conn-status").startswith("Sandbox")


def test_generate_at_ready_on_a_return_visit_uses_the_saved_connection(page, sandbox_server):
    """Someone back with a saved connection types while Python starts and presses Ctrl+Enter
    the moment it is ready, while the saved connection is still being checked: the run goes
    ahead with it, rather than asking them to choose a connection they already have."""
    open_app(page, sandbox_server)
    use_sandbox(page)
    page.add_init_script(SLOW_MODELS_JS)
    page.goto(sandbox_server.url + "/", wait_until="commit")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'prompt'", polling="raf")
    page.keyboard.type("back again")
    page.wait_for_selector("body[data-ready]", timeout=60_000)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#runs .run", timeout=30_000)
    assert not alert_titles(page.locator("#alerts")), alert_titles(page.locator("#alerts"))
    page.wait_for_function("document.querySelector('#runs .run').getAttribute('data-state') === 'done'",
                           timeout=60_000)
    assert page.inner_text("#conn-status").startswith("Sandbox")
    assert page.locator("#connect").is_hidden()


# Each /v1/models request's start and end, in the page, in order of start.
MODELS_TIMES_JS = """
(() => {
  const fetch0 = window.fetch;
  window.__models = [];
  window.fetch = async function (input, init) {
    const url = String(input && input.url || input);
    if (!url.endsWith('/v1/models')) return fetch0.call(this, input, init);
    const t = {start: performance.now(), end: null};
    window.__models.push(t);
    try { return await fetch0.call(this, input, init); } finally { t.end = performance.now(); }
  };
})();
"""


def test_a_saved_endpoint_is_checked_beside_the_sandbox_detection(page, sandbox_server):
    """On a return visit the saved endpoint's models are asked for while this site is still
    being asked whether it has a sandbox, not a round trip after: the two /v1/models requests
    overlap (each is held back 1.5 s, so one after the other could not)."""
    open_app(page, sandbox_server)
    use_compatible(page, sandbox_server.url + "/v1", KEY, remember=True)
    page.wait_for_selector("#conn-status[data-state=ok]")
    page.add_init_script(SLOW_MODELS_JS)
    page.add_init_script(MODELS_TIMES_JS)  # wraps the delay: each timing holds it
    page.reload()
    page.wait_for_selector("body[data-connected='1']", timeout=60_000)
    times = page.evaluate("window.__models")
    assert len(times) == 2, times  # the detection and the saved endpoint's listing
    first, second = sorted(times, key=lambda t: t["start"])
    assert second["start"] < first["end"], times
    assert page.inner_text("#conn-status").startswith("OpenAI-compatible")


def test_generate_with_a_saved_endpoint_that_is_away_says_so(page, sandbox_server):
    """A saved endpoint that cannot be reached on a return visit: Generate says that this
    connection is not connected and points at the panel's reason, rather than asking the
    user to choose a connection they have chosen."""
    open_app(page, sandbox_server)
    use_compatible(page, sandbox_server.url + "/v1", KEY, remember=True)
    page.wait_for_selector("#conn-status[data-state=ok]")
    saved = page.evaluate("localStorage.getItem('imagesynth.connection')")
    page.evaluate("(s) => localStorage.setItem('imagesynth.connection', s)",
                  saved.replace(sandbox_server.url + "/v1", "http://127.0.0.1:9/v1"))  # nothing listens on 9
    page.reload()
    page.wait_for_selector("body[data-connected='0']", timeout=60_000)
    assert "can't reach" in page.inner_text("#conn-status").lower()
    page.fill("#prompt", "while the endpoint is away")
    page.press("#prompt", "Control+Enter")
    page.wait_for_selector("#alerts .alert")
    assert alert_titles(page.locator("#alerts")) == ["OpenAI-compatible is not connected"]
    assert page.locator("#connect").is_visible()
    assert "Can't reach the endpoint" in page.inner_text("#connect-result")
    assert page.locator("#runs .run").count() == 0
