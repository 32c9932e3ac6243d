"""Share links and the Web Share API: a link fills the form, runs nothing, carries no key, and
survives any prompt text."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from apphelpers import generate, open_app, use_sandbox

pytestmark = pytest.mark.usefixtures("server")

HOSTILE = ('<script type="py">from pyscript import document; document.body.setAttribute("data-pwned", "py")'
           '</script><img src=x onerror="document.body.setAttribute(\'data-pwned\', \'img\')"> '
           'emoji 🦊🏳️‍🌈 "double" \'single\'\nsecond line\n\tthird &#x41; %41 #frag &amp; ?q=1 + 50%')



def test_share_link_round_trip_hostile_prompt(app_page, context, server, screenshot):
    page = app_page
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page.fill("#prompt", HOSTILE)
    page.fill("#n", "3")
    page.select_option("#size", "Medium")
    page.select_option("#model", "gpt-image-1")
    page.select_option("#param-quality", "high")
    page.click("#copy-link")
    page.wait_for_function("document.getElementById('share-note').textContent.length > 0")
    link = page.input_value("#share-link")
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert "Link copied" in page.inner_text("#share-note")
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == server.url and not parts.query
    assert "sk-sandbox" not in link and "key" not in parts.fragment.lower()
    assert parts.fragment.startswith("p=") and "n=3" in parts.fragment and "size=Medium" in parts.fragment
    assert "\n" not in link and " " not in link and "<" not in link
    screenshot(page, "share-01-copy-link", full_page=False)

    p2 = context.new_page()
    seen = []
    p2.on("request", lambda r: seen.append(r.url))
    p2.goto(link)
    p2.wait_for_selector("body[data-wired]", timeout=60_000)
    p2.wait_for_selector("#alerts .alert[data-key=filled]")
    assert p2.input_value("#prompt") == HOSTILE
    assert p2.input_value("#n") == "3"
    assert p2.input_value("#size") == "Medium"
    assert p2.input_value("#model") == "gpt-image-1"
    assert p2.input_value("#param-quality") == "high"
    assert "Nothing runs until you press" in p2.inner_text("#alerts")
    p2.wait_for_timeout(1500)  # anything injected would have run by now
    assert p2.get_attribute("body", "data-pwned") is None
    assert p2.locator('img[src="x"]').count() == 0
    assert p2.locator("#runs .run").count() == 0  # nothing ran
    assert not [u for u in seen if "/images/" in u]  # no image request was made
    screenshot(p2, "share-02-link-opened", full_page=False)
    # only a click runs it; the result shows the prompt as text
    p2.click("#generate")
    p2.wait_for_selector("#runs .run:first-child:not([data-state=running])", timeout=60_000)
    assert p2.locator("#gallery .tile .prompt-text").first.inner_text() == HOSTILE
    assert p2.get_attribute("body", "data-pwned") is None


def test_link_fields_that_are_not_settings_are_refused(page, server):
    link = (server.url + "/#p=a%20cat&n=2&api_key=sk-LEAKED-123456789012345&base_url=https%3A%2F%2Fevil.example"
            "&image=data%3Aimage%2Fpng&v=1")
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(link)
    page.wait_for_selector("body[data-wired]", timeout=60_000)
    page.wait_for_selector("#alerts .alert[data-key=filled]")
    assert page.input_value("#prompt") == "a cat"
    assert page.input_value("#n") == "2"
    text = page.inner_text("#alerts")
    assert "never carry keys" in text and "never set where requests go" in text and "never carry images" in text
    assert page.input_value("#api-key") == ""
    assert not [u for u in seen if "evil.example" in u]


def test_hash_change_fills_the_form(app_page):
    page = app_page
    page.evaluate("location.hash = 'p=' + encodeURIComponent('changed in place ✓') + '&n=4&v=1'")
    page.wait_for_function("document.getElementById('prompt').value === 'changed in place ✓'")
    assert page.input_value("#n") == "4"
    assert page.locator("#runs .run").count() == 0


def test_web_share_button_shares_the_image(page, server, screenshot):
    if not server.sandbox:
        pytest.skip("needs imagesynth serve's sandbox endpoint")
    page.add_init_script("""
        window.__shared = [];
        navigator.canShare = (data) => !!(data && data.files && data.files.length);
        navigator.share = async (data) => {
            const f = data.files[0];
            window.__shared.push({name: f.name, type: f.type, size: f.size, text: data.text,
                                  head: Array.from(new Uint8Array(await f.slice(0, 8).arrayBuffer()))});
        };
    """)
    open_app(page, server)
    use_sandbox(page)
    generate(page, "a shared sunset", n=1, size="Small")
    page.locator("#gallery .tile .thumb").first.click()
    page.wait_for_selector("#lightbox[open]")
    page.click("#lightbox-share")
    page.wait_for_function("window.__shared.length === 1")
    shared = page.evaluate("window.__shared[0]")
    assert shared["type"] == "image/png" and shared["name"].endswith(".png") and shared["size"] > 1000
    assert bytes(shared["head"]) == b"\x89PNG\r\n\x1a\n"
    assert shared["text"] == "a shared sunset"
    screenshot(page, "share-03-web-share-button", full_page=False)


def test_no_share_button_without_web_share(app_page):
    page = app_page
    if page.evaluate("typeof navigator.share === 'function'"):
        pytest.skip("this browser has the Web Share API")
    assert page.locator("#lightbox-share").count() == 0
