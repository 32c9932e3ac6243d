"""Views: alerts, the gallery of results, the large view, the About panel.

Every piece of user or API text goes in with ``textContent`` (``dom.h`` /
``dom.set_text``).
"""

from __future__ import annotations

import time
from typing import Any

import js
from pyscript import window

from . import dom
from .dom import el, h, on, set_text
from .messages import Message, describe
from .state import app

_urls: dict[int, str] = {}  # record key → object URL
_records: dict[str, Any] = {}  # tile key → Record
_current: dict[str, Any] = {"rec": None}
_opener: dict[str, Any] = {"node": None}


# --------------------------------------------------------------------------------- alerts
def alert_node(msg: Message, *, dismiss: bool = True, extra=None):
    """An alert box (title + text); ``role=alert`` for errors so screen readers say it."""
    body = h("div", h("p", cls="alert-title", text=msg.title), h("p", cls="alert-text", text=msg.text),
             cls="alert-body")
    if extra is not None:
        body.appendChild(extra)
    node = h("div", body, cls=f"alert {msg.level}",
             attrs={"role": "alert" if msg.level == "error" else "status", "data-title": msg.title})
    if dismiss:
        btn = h("button", cls="btn ghost small", text="Dismiss", attrs={"type": "button"})
        on(btn, "click", lambda evt: node.remove())
        node.appendChild(btn)
    return node


def show_alert(msg: Message, *, key: str | None = None):
    """Show a page-level message; ``key`` replaces an earlier one with the same key."""
    box = el("alerts")
    if key:
        old = dom.q(box, f'[data-key="{key}"]')
        if old:
            old.remove()
    node = alert_node(msg)
    if key:
        node.setAttribute("data-key", key)
    box.prepend(node)
    return node


def clear_alert(key: str) -> None:
    old = dom.q(el("alerts"), f'[data-key="{key}"]')
    if old:
        old.remove()


def show_error(exc: BaseException, *, key: str | None = None):
    return show_alert(describe(exc), key=key)


# -------------------------------------------------------------------------------- gallery
def _url_key(rec):
    """Where a record's full-image URL is kept: by id once stored, by its Blob before."""
    return id(rec.blob) if rec.id is None else rec.id


def _url_for(rec) -> str:
    """Object URL of the full image (``rec.blob`` must be loaded: ``store.full_blob``)."""
    k = _url_key(rec)
    if k not in _urls:
        _urls[k] = dom.object_url(rec.blob)
    return _urls[k]


def predecode(blob):
    """An <img> of a new image, already decoding: made while the image is being stored, so
    the commit and the decode overlap (persist before display still holds: the element goes
    into the page only after the commit, ``add_tile(..., img=...)``)."""
    url = dom.object_url(blob)
    img = h("img", attrs={"src": url, "decoding": "async"})
    try:
        img.decode().catch(_ignore)
    except Exception:
        pass
    return img


def _ignore(*_args) -> None:
    pass


def adopt(rec, img) -> None:
    """The record's object URL is the predecoded <img>'s: one URL, one decode for every view."""
    _urls[_url_key(rec)] = img.getAttribute("src")


def full_url_now(rec) -> str:
    """Object URL of a record's loaded full image (one per record, shared by every view)."""
    return _url_for(rec) if rec.blob is not None else ""


_thumb_urls: dict[int, str] = {}  # id(thumb blob) → object URL


def thumb_url(rec) -> str:
    """The tile's picture: the stored thumbnail, or the full image where there is none."""
    if rec.thumb is None:
        return _url_for(rec) if rec.blob is not None else ""
    k = id(rec.thumb)
    if k not in _thumb_urls:
        _thumb_urls[k] = dom.object_url(rec.thumb)
    return _thumb_urls[k]


async def full_url(rec) -> str:
    """Object URL of the full image, read from the store on first use."""
    from . import store

    await store.full_blob(rec)
    return _url_for(rec) if rec.blob is not None else ""


def forget_urls(rec) -> None:
    """Revoke a record's object URLs (deleted for good)."""
    for cache, k in ((_urls, rec.id), (_thumb_urls, id(rec.thumb))):
        url = cache.pop(k, None)
        if url:
            js.URL.revokeObjectURL(url)


def _lazy_download(a, rec) -> None:
    """A Download link whose full image is read from the store when it is clicked."""
    def click(evt):
        if rec.blob is not None and str(a.getAttribute("href") or "#") != "#":
            return
        evt.preventDefault()

        async def load():
            url = await full_url(rec)
            if url:
                a.setAttribute("href", url)
                a.click()

        dom.run_task(load())

    on(a, "click", click)


#: functions (tile, rec, actions) that add controls to each tile (gallery.py: star, select, delete)
tile_decorators: list = []


def _ext(mime: str) -> str:
    return {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}.get(mime, "png")


def filename_for(rec) -> str:
    from imagesynth.names import slug

    words = slug(rec.prompt)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime((rec.created or 0) / 1000))
    idx = rec.params.get("index")
    suffix = f"-{int(idx) + 1}" if isinstance(idx, int) else ""
    return f"imagesynth-{stamp}-{words}{suffix}.{_ext(rec.mime)}"


def _info_line(rec) -> str:
    bits = [f"{rec.width}×{rec.height}"]
    model = rec.params.get("model")
    if model:
        bits.append(str(model))
    if rec.created:
        bits.append(time.strftime("%d %b %H:%M", time.localtime(rec.created / 1000)))
    return " · ".join(bits)


def _update_count() -> None:
    n = el("gallery").children.length
    set_text(el("gallery-count"), f"{n} image{'s' if n != 1 else ''}" if n else "")
    dom.show(el("gallery-empty"), n == 0)


def add_tile(rec, *, fresh: bool = False, note: str = "", note_bad: bool = False, img=None):
    """A gallery tile for a record (prepended: newest first); ``img`` from ``predecode``,
    already ``adopt``ed by the record."""
    tile = tile_node(rec, fresh=fresh, note=note, note_bad=note_bad, img=img)
    el("gallery").prepend(tile)
    _update_count()
    return tile


def prompt_label(rec) -> str:
    """What a record shows as its prompt: a variation has none, so it says what it varies."""
    if rec.prompt:
        return rec.prompt
    params = rec.params or {}
    if params.get("task") == "vary":
        source = str(params.get("source") or "").strip()
        return f"Variation of {source}" if source else "Variation of a reference image"
    return "(no prompt)"


def tile_node(rec, *, fresh: bool = False, note: str = "", note_bad: bool = False, img=None):
    """A gallery tile for a record (not yet in the page)."""
    prompt = prompt_label(rec)
    attrs = {"alt": prompt, "width": rec.width, "height": rec.height, "loading": "lazy", "decoding": "async"}
    if img is None:
        img = h("img", attrs={"src": thumb_url(rec), **attrs})
    else:
        for name, value in attrs.items():
            dom.set_attr(img, name, value)
    thumb = h("button", img, cls="thumb", attrs={"type": "button", "aria-label": f"Open large view: {prompt}"})
    meta = h("div", cls="tile-meta")
    meta.appendChild(h("p", cls="prompt-text", text=prompt))
    revised = rec.params.get("revised_prompt")
    if revised and revised != rec.prompt:
        meta.appendChild(h("p", cls="revised", text=f"Revised: {revised}"))
    meta.appendChild(h("p", cls="info", text=_info_line(rec)))
    note_node = h("p", cls="tile-note bad" if note_bad else "tile-note", text=note,
                  attrs={"role": "status"})
    download = h("a", cls="btn small", text="Download",
                 attrs={"href": _url_for(rec) if rec.blob is not None else "#", "download": filename_for(rec),
                        "aria-label": f"Download: {prompt}"})
    _lazy_download(download, rec)
    copy = h("button", cls="btn small ghost", text="Copy", attrs={"type": "button", "aria-label": f"Copy image: {prompt}"})
    actions = h("div", download, copy, cls="tile-actions")
    meta.appendChild(actions)
    meta.appendChild(note_node)
    tile = h("li", thumb, meta, cls="tile fresh" if fresh else "tile",
             attrs={"data-id": rec.id if rec.id is not None else "", "data-width": rec.width,
                    "data-height": rec.height, "data-saved": "1" if rec.saved else "0"})
    on(thumb, "click", lambda evt: open_lightbox(rec, thumb))

    async def do_copy(evt):
        set_text(note_node, await copy_image(rec))

    on(copy, "click", do_copy)
    for decorate in tile_decorators:
        decorate(tile, rec, actions)
    return tile


def render_history(records) -> None:
    """Fill the gallery from storage; ``records`` newest first."""
    gallery = el("gallery")
    dom.clear(gallery)
    for rec in reversed(records):
        add_tile(rec)
    _update_count()


async def copy_image(rec) -> str:
    """Copy to the clipboard; returns what happened, in words."""
    try:
        nav = window.navigator
        if not getattr(nav, "clipboard", None) or not hasattr(js, "ClipboardItem"):
            return "This browser cannot copy images; use Download."
        if rec.mime != "image/png":
            return "Browsers copy only PNG images; use Download for this one."
        from . import store

        blob = await store.full_blob(rec)
        if blob is None:
            return "This image is no longer stored in this browser."
        item = js.ClipboardItem.new(dom.js_object({"image/png": blob}))
        await nav.clipboard.write(js.Array.of(item))
        return "Copied to the clipboard."
    except Exception as exc:
        name = str(getattr(exc, "name", "") or "")
        if name == "NotAllowedError":
            return "The browser did not allow copying (the page may need focus or permission). Use Download."
        return "Copying failed in this browser; use Download."


# ------------------------------------------------------------------------------- lightbox
_PARAM_LABELS = (
    ("task", "Task"), ("source", "Made from"),
    ("model", "Model"), ("size", "Size"), ("generated_size", "Model output"), ("quality", "Quality"),
    ("style", "Style"), ("background", "Background"), ("output_format", "Format"),
    ("provider", "Provider"), ("seed", "Seed"), ("created", "Created"), ("request_id", "Request ID"),
)


_PARAM_WORDS = {
    "task": {"generate": "Generate from text", "vary": "Variation", "inpaint": "Edit (inpaint)", "edit": "Edit"},
    "provider": {"openai": "OpenAI", "azure": "Azure OpenAI", "compatible": "OpenAI-compatible"},
}


def _local_time(value) -> str:
    """An ISO timestamp (or ms/s since the epoch) as this browser's local date and time."""
    try:
        if isinstance(value, (int, float)):
            when = js.Date.new(value if value > 1e11 else value * 1000)
        else:
            when = js.Date.new(str(value))
        if when.getTime() != when.getTime():  # NaN: not a date
            return str(value)
        from pyodide.ffi import to_js

        opts = to_js({"dateStyle": "medium", "timeStyle": "short"}, dict_converter=js.Object.fromEntries)
        return str(when.toLocaleString(js.undefined, opts))
    except Exception:
        return str(value)


def _param_text(key: str, value) -> str:
    if key == "created":
        return _local_time(value)
    text = str(value)
    words = _PARAM_WORDS.get(key)
    if words:
        return words.get(text, text)
    return text


def open_lightbox(rec, opener=None) -> None:
    _current["rec"] = rec
    _opener["node"] = opener
    url = _url_for(rec) if rec.blob is not None else thumb_url(rec)
    if rec.blob is None:  # the thumbnail at once, the full image when the store has read it
        async def load_full():
            full = await full_url(rec)
            if full and _current["rec"] is rec:
                dom.set_attr(el("lightbox-img"), "src", full)
                dom.set_attr(el("lightbox-download"), "href", full)

        dom.run_task(load_full())
    img = el("lightbox-img")
    dom.set_attr(img, "src", url)
    dom.set_attr(img, "alt", rec.prompt or "Generated image")
    set_text(el("lightbox-prompt"), prompt_label(rec))
    revised = rec.params.get("revised_prompt")
    rp = el("lightbox-revised")
    set_text(rp, f"Revised prompt: {revised}" if revised and revised != rec.prompt else "")
    dl = el("lightbox-params")
    dom.clear(dl)
    for key, label in _PARAM_LABELS:
        value = rec.params.get(key)
        if value in (None, ""):
            continue
        dl.appendChild(h("dt", text=label))
        dl.appendChild(h("dd", text=_param_text(key, value)))
    a = el("lightbox-download")
    dom.set_attr(a, "href", url)
    dom.set_attr(a, "download", filename_for(rec))
    set_text(el("lightbox-note"), "")
    box = el("lightbox")
    if not box.open:
        box.showModal()
    dom.focus(el("lightbox-close"))


def _close_lightbox(evt=None) -> None:
    box = el("lightbox")
    if box.open:
        box.close()


def wire_lightbox() -> None:
    box = el("lightbox")
    on(el("lightbox-close"), "click", _close_lightbox)

    def backdrop(evt):
        if evt.target == box:  # a click outside the content
            _close_lightbox()

    on(box, "click", backdrop)

    def closed(evt):
        opener = _opener["node"]
        if opener is not None:
            dom.focus(opener)

    on(box, "close", closed)

    async def do_copy(evt):
        rec = _current["rec"]
        if rec is not None:
            set_text(el("lightbox-note"), await copy_image(rec))

    on(el("lightbox-copy"), "click", do_copy)


# ---------------------------------------------------------------------------------- about
_about_extra: dict[str, str] = {}  # rows others added (Storage): kept when the panel is redrawn


def python_start() -> str | None:
    """How this page's Python started, and what of a snapshot for the next visit (static/
    snapshot-restore.js and static/snapshot-save.js keep it on <html>); None where the site has
    no snapshot of Python's start at all."""
    root = js.document.documentElement
    start, state = root.getAttribute("data-python-start"), root.getAttribute("data-snapshot")
    note = root.getAttribute("data-snapshot-note")
    if start == "snapshot":
        return "From the snapshot saved on this device (Python's own start skipped)"
    if start != "fresh" or not state:
        return None
    if state == "saved":
        return f"Full start; a snapshot of it ({note}) is saved on this device for the next visit"
    if state in ("skipped", "failed"):
        return f"Full start; no snapshot saved for the next visit ({note})"
    return "Full start; a snapshot of it is saved on this device for the next visit once the page is idle"


def render_about(extra: dict[str, str] | None = None) -> None:
    _about_extra.update(extra or {})
    rt = app.runtime or {}
    rows: list[tuple[str, str]] = []
    try:
        import imagesynth

        rows.append(("App version", f"imagesynth {imagesynth.__version__}"))
    except Exception:
        pass
    if rt.get("pyscript"):
        rows.append(("PyScript", str(rt["pyscript"])))
    import sys

    pyodide_version = rt.get("pyodide")
    try:
        import pyodide

        pyodide_version = pyodide.__version__
    except Exception:
        pass
    if pyodide_version:
        rows.append(("Pyodide", str(pyodide_version)))
    rows.append(("Python", sys.version.split()[0]))
    name = getattr(app.imaging, "name", None)
    backend = name or rt.get("imaging") or "unknown"
    rows.append(("Imaging", str(backend).split(" (Pillow unavailable")[0]))
    if rt.get("imaging") == "canvas":
        rows.append(("Pillow", "not in this build: images are decoded and resized by the browser"))
    start = python_start()
    if start:
        rows.append(("Python start", start))
    if rt.get("built"):
        rows.append(("Built", str(rt["built"])))
    rows.extend(_about_extra.items())
    dl = el("about-list")
    dom.clear(dl)
    for label, value in rows:
        dl.appendChild(h("dt", text=label))
        dl.appendChild(h("dd", text=value, attrs={"data-key": label}))


def wire_about() -> None:
    box = el("about")
    def open_about(evt) -> None:
        render_about()  # what changed since it was drawn: the snapshot for the next visit
        box.showModal()

    on(el("open-about"), "click", open_about)
    on(el("about-close"), "click", lambda evt: box.close())
    on(box, "close", lambda evt: dom.focus(el("open-about")))
