"""Runs in flight, and what is left of them when the page dies.

When a run starts, a pending record goes to IndexedDB (prompt, form settings,
n, this page's token); when it ends, however it ends, the record goes.  A
record still there at the next load belongs to a page that died mid-request:
it becomes an "interrupted" card with its prompt, how many images arrived
(they are in the gallery: each was saved before it was shown) and "Run again".

Why a page token and a Web Lock: a second tab may be running a request right
now; its pending record is not interrupted.  Each page holds the lock
``imagesynth-page-<token>`` for its lifetime; the browser drops it when the
page dies, so ``navigator.locks.query()`` tells a live run from a dead one.
Without Web Locks, records older than this page's start count as interrupted.
"""

from __future__ import annotations

import json
import os
import time

from . import dom, store, views
from .dom import el, h, on, set_text
from .messages import Message

PAGE = os.urandom(16).hex()  # a random token (uuid would add ~12 ms to the page's start)
STARTED = time.time() * 1000
_locked = {"ok": False}


def hold_page_lock() -> None:
    try:
        from pyscript.js_modules import idb

        _locked["ok"] = bool(idb.holdPageLock(PAGE))
    except Exception:
        _locked["ok"] = False


async def run_started(prompt: str, n: int) -> int | None:
    """Write the pending record for a run that is starting; its id (None if not written)."""
    try:
        from . import sharing

        settings = sharing.current_settings()
    except Exception:
        settings = {"prompt": prompt, "n": n}
    return await store.start_run({"started": time.time() * 1000, "page": PAGE, "prompt": prompt,
                                  "settings": json.dumps(settings), "n": n, "state": "pending"})


async def run_ended(run_id: int | None) -> None:
    await store.end_run(run_id)


async def check_interrupted(records) -> int:
    """Show a card for each run a dead page left pending; returns how many."""
    runs = await store.list_runs()
    if not runs:
        return 0
    live = None
    try:
        from pyscript.js_modules import idb

        pages = await idb.livePages()
        live = None if dom.nn(pages) is None else {str(p) for p in pages}
    except Exception:
        live = None
    shown = 0
    for run in sorted(runs, key=lambda r: r["started"], reverse=True):
        if run["page"] == PAGE:
            continue
        if run["state"] == "pending":
            if live is not None and run["page"] in live:
                continue  # another tab is running it right now
            if live is None and run["started"] >= STARTED:
                continue
        arrived = sum(1 for r in records if r.run == run["id"])
        _card(run, arrived)
        shown += 1
    return shown


def _card(run: dict, arrived: int) -> None:
    n = run["n"]
    prompt = run["prompt"] or "(no prompt)"
    when = time.strftime("%d %b %H:%M", time.localtime(run["started"] / 1000)) if run["started"] else ""
    if arrived:
        got = f"{arrived} of {n} image{'s' if n != 1 else ''} arrived and {'is' if arrived == 1 else 'are'} in your gallery."
    else:
        got = "No image had arrived yet."
    text = (f"The page was closed or reloaded while this was being made{f' ({when})' if when else ''}. {got} "
            "Run it again to make the rest; the provider may have charged for the request that was cut off.")
    again = h("button", cls="btn small primary", text="Run again", attrs={"type": "button"})
    dismiss = h("button", cls="btn small ghost", text="Dismiss", attrs={"type": "button"})
    node = h("section",
             h("div", h("p", cls="run-title", text=f"“{prompt}”"), again, dismiss, cls="run-head"),
             views.alert_node(Message("Interrupted", text, "warn"), dismiss=False),
             cls="card run interrupted",
             attrs={"data-state": "interrupted", "data-run": run["id"], "aria-label": "Interrupted generation"})
    el("runs").appendChild(node)

    # The card goes once its record is deleted, not before: a reload right after the click
    # would otherwise find the record still there and show the card again.
    async def do_dismiss(evt):
        await store.end_run(run["id"])
        node.remove()

    async def do_again(evt):
        from . import generate, sharing

        try:
            settings = json.loads(run["settings"] or "{}")
        except ValueError:
            settings = {}
        if not settings.get("prompt"):
            settings["prompt"] = run["prompt"]
        settings["n"] = n
        sharing.fill_form(settings, source=None)
        await store.end_run(run["id"])
        node.remove()
        await generate.run_generation()

    on(dismiss, "click", do_dismiss)
    on(again, "click", do_again)


# ---------------------------------------------------------------------------- storage full
def storage_refused(rec, exc) -> None:
    """The image arrived but the browser would not store it: say so, and offer it at once."""
    url = views._url_for(rec)
    link = h("a", cls="btn small primary", text="Download the image",
             attrs={"href": url, "download": views.filename_for(rec)})
    extra = h("div", link, cls="alert-actions")
    quota = bool(getattr(exc, "quota", False))
    title = "Not saved"
    node = views.alert_node(Message(title, str(exc), "warn"), extra=extra)
    node.setAttribute("data-key", "storage")
    node.setAttribute("data-quota", "1" if quota else "0")
    box = el("alerts")
    old = dom.q(box, '[data-key="storage"]')
    if old:
        old.remove()
    box.prepend(node)
