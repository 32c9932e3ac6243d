"""The browser tests' own helpers, where they do more than call Playwright."""

from __future__ import annotations

from apphelpers import open_app_retrying_crash


def test_app_start_is_tried_again_in_a_new_page_after_a_renderer_crash(context, page, server):
    cdp = context.new_cdp_session(page)

    def crash(_page):
        try:
            cdp.send("Page.crash")  # DevTools' own way to kill a renderer
        except Exception:  # noqa: BLE001  (the renderer dies before it answers)
            pass

    page.once("domcontentloaded", crash)
    reports: list[str] = []
    started = open_app_retrying_crash(context, page, server, reports.append)
    assert started is not page
    assert started.get_attribute("body", "data-wired") is not None
    assert len(reports) == 1 and "crashed" in reports[0] and "free in" in reports[0], reports
