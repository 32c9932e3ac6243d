"""The page's one inline script and the policies that let it run.

index.html marks a first visit from an inline script, allowed in ``script-src`` by its hash, in
the page's CSP ``<meta>`` and in the header ``imagesynth serve`` sends (``server/csp.py``). The
browser applies both policies, so a script whose text changed without its hash would be
refused by both, silently: the connection card would then come a frame late, after Python.
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser
from pathlib import Path

from imagesynth.server.csp import FIRST_VISIT_SCRIPT, content_security_policy

INDEX = Path(__file__).resolve().parents[1] / "index.html"


class _Page(HTMLParser):
    """The inline scripts' texts and the CSP <meta>'s policy."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.inline: list[str] = []
        self.policy: str | None = None
        self._script: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and "src" not in a and a.get("type", "text/javascript") in ("text/javascript", "module", ""):
            self._script = []
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.policy = a.get("content")

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.inline.append("".join(self._script))
            self._script = None


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _script_src(policy: str) -> list[str]:
    return next(d.split()[1:] for d in policy.split(";") if d.split()[:1] == ["script-src"])


def test_the_page_has_one_inline_script_and_its_hash_is_the_one_allowed():
    page = _page(INDEX.read_text(encoding="utf-8"))
    assert len(page.inline) == 1, "index.html should have exactly one inline script (the first visit's)"
    got = _hash(page.inline[0])
    assert got == FIRST_VISIT_SCRIPT, (
        f"index.html's inline script hashes to {got}: put that in server/csp.py's FIRST_VISIT_SCRIPT "
        "and in the page's CSP <meta>")
    assert "first-run" in page.inline[0]


def test_the_meta_policy_is_the_header():
    """A static host that sends no header gets the same protection as ``imagesynth serve``."""
    page = _page(INDEX.read_text(encoding="utf-8"))
    assert page.policy is not None
    assert page.policy == content_security_policy()
    assert FIRST_VISIT_SCRIPT in _script_src(page.policy)
    assert "'unsafe-inline'" not in _script_src(page.policy)


def test_a_changed_script_is_caught():
    """The check above can fail: one character more in the script gives another hash."""
    page = _page(INDEX.read_text(encoding="utf-8").replace("(function () {", "(function () { ", 1))
    assert _hash(page.inline[0]) != FIRST_VISIT_SCRIPT
