"""Sharing and restoring settings: "Copy link", links opened, PNGs dropped, Web Share.

A link carries the prompt and settings in the URL fragment (``share.py``):
opening one fills the form and runs nothing; the user presses Generate.  A
dropped PNG that imagesynth made fills the form the same way (``restore.py``);
any other image dropped outside the reference panel goes on to the reference
image handler (``reference.take``), and a dropped ZIP is imported into the
history.  Whatever the source, values reach the form through
``share.validate_settings`` and the page as text.  Neither path ever carries a
key: the settings come from the form's own fields, never from the connection.
"""

from __future__ import annotations

import js
from pyscript import document, window

from . import dom, views
from .dom import el, h, on, set_text
from .messages import Message

_PARAMS = ("quality", "style", "background", "output_format", "moderation")
_REFERENCE_AREA = "#reference, #reference-drop, .drop-zone, .reference-panel, #inpaint"


# ---------------------------------------------------------------------------------- form
def current_settings() -> dict:
    """The form's settings (what a link or a "Run again" carries).  Never a key or an image."""
    out: dict = {"prompt": str(el("prompt").value)}
    try:
        out["n"] = int(str(el("n").value).strip() or "1")
    except ValueError:
        pass
    size = str(el("size").value)
    if size == "custom":
        out["size"] = f"{str(el('width').value).strip()}x{str(el('height').value).strip()}"
    elif size:
        out["size"] = size
    model = str(el("model").value)
    if model:
        out["model"] = model
    box = el("model-params")
    for name in _PARAMS:
        node = dom.q(box, f"#param-{name}")
        if node is not None and str(node.value):
            out[name] = str(node.value)
    cb = dom.q(box, "#param-stream")
    if cb is not None:
        out["stream"] = bool(cb.checked)
    task = dom.q(document, "input[name=task]:checked")
    if task is not None and str(task.value) in ("generate", "vary", "inpaint"):
        out["task"] = str(task.value)
    return out


def fill_form(settings: dict, warnings: list[str] | None = None, *, source: str | None = "link") -> None:
    """Put validated settings into the form (runs nothing).  ``source`` says where they came from
    ("link", "png") for the notice; None: no notice."""
    from . import generate

    warnings = list(warnings or [])
    task = settings.get("task")
    if task:
        try:
            from . import reference

            reference.set_task(task)
        except Exception:
            if task != "generate":
                warnings.append("This version of the page cannot switch to that task; the prompt was filled in.")
    if "prompt" in settings:
        el("prompt").value = settings["prompt"]
    if "n" in settings:
        el("n").value = str(settings["n"])
    size = settings.get("size")
    if size:
        sel = el("size")
        if size in ("Small", "Medium", "Large"):
            sel.value = size
        elif "x" in size:
            w, _, hgt = size.partition("x")
            sel.value = "custom"
            el("width").value = w
            el("height").value = hgt
        # "Automatic": the form has no such choice; it keeps its own size
        sel.dispatchEvent(js.Event.new("change"))
    model = settings.get("model")
    if model:
        sel = el("model")
        ids = [str(sel.options.item(i).value) for i in range(sel.options.length)]
        if model not in ids:
            sel.appendChild(h("option", text=model, attrs={"value": model}))
            warnings.append(f"The model “{model}” is not in this connection's list; it is used only if the "
                            "endpoint offers it.")
        sel.value = model
    generate.update_params()
    box = el("model-params")
    for name in _PARAMS:
        if name in settings:
            node = dom.q(box, f"#param-{name}")
            if node is not None:
                node.value = str(settings[name])
                if str(node.value) != str(settings[name]):
                    warnings.append(f"This model does not take {name.replace('_', ' ')} “{settings[name]}”; "
                                    "the form keeps its default.")
    if "stream" in settings:
        cb = dom.q(box, "#param-stream")
        if cb is not None:
            cb.checked = bool(settings["stream"])
    if source is None:
        return
    what = {"link": "a shared link", "png": "the dropped image"}.get(source, source)
    text = (f"The prompt and settings from {what} are in the form. Nothing runs until you press "
            f"{str(el('generate').textContent).strip() or 'Generate'}.")
    extra = None
    if warnings:
        extra = h("ul", cls="alert-list")
        for line in warnings[:20]:
            extra.appendChild(h("li", text=line))
    node = views.alert_node(Message("Settings filled in", text, "info"), extra=extra)
    node.setAttribute("data-key", "filled")
    node.setAttribute("data-source", source)
    views.clear_alert("filled")
    el("alerts").prepend(node)


# ---------------------------------------------------------------------------------- links
def apply_fragment(evt=None) -> bool:
    """Fill the form from the address's fragment, if it holds a share link's settings."""
    from .share import decode_fragment

    frag = str(window.location.hash or "")
    if len(frag) <= 1:
        return False
    settings, warnings = decode_fragment(frag)
    if not settings:
        if warnings:
            views.show_alert(Message("Link not used", " ".join(warnings), "warn"), key="filled")
        return False
    fill_form(settings, warnings, source="link")
    return True


async def copy_link(evt=None) -> None:
    from .share import is_long, share_url

    url = share_url(str(window.location.href), current_settings())
    field = el("share-link")
    field.value = url
    dom.show(el("share-box"), True)
    note = el("share-note")
    try:
        await window.navigator.clipboard.writeText(url)
        text = "Link copied. It holds the prompt and settings, never your key or images."
    except Exception:
        field.select()
        text = "Copy the link from the box (the browser did not allow the page to copy it)."
    if is_long(url):
        text += " It is long: some chat apps and mail clients may cut it."
    set_text(note, text)


def _wire_copy_link() -> None:
    btn = h("button", cls="btn", text="Copy link",
            attrs={"id": "copy-link", "type": "button",
                   "title": "A link to this prompt and its settings (never your key)"})
    foot = dom.q(el("gen-form"), ".form-foot")
    gen = el("generate")
    gen.after(btn)
    field = h("input", cls="share-link", attrs={"id": "share-link", "type": "text", "readonly": True,
                                                "aria-label": "Share link", "spellcheck": "false"})
    note = h("span", cls="muted", attrs={"id": "share-note", "role": "status"})
    box = h("div", field, note, cls="share-box", attrs={"id": "share-box", "hidden": True})
    foot.after(box)
    on(btn, "click", copy_link)
    on(field, "focus", lambda evt: field.select())


# ------------------------------------------------------------------------------ web share
def _can_share_files() -> bool:
    nav = window.navigator
    return hasattr(nav, "share") and hasattr(nav, "canShare") and dom.nn(getattr(nav, "share", None)) is not None


async def share_current(evt=None) -> None:
    from . import store

    rec = views._current.get("rec")
    if rec is None:
        return
    note = el("lightbox-note")
    try:
        from pyodide.ffi import to_js

        blob = await store.full_blob(rec)
        f = js.File.new(to_js([blob]), views.filename_for(rec), dom.js_object({"type": rec.mime}))
        data = dom.js_object({"files": to_js([f]), "title": "imagesynth", "text": rec.prompt or ""})
        if not window.navigator.canShare(data):
            set_text(note, "This browser cannot share image files; use Download.")
            return
        await window.navigator.share(data)
        set_text(note, "Shared.")
    except Exception as exc:
        name = str(getattr(exc, "name", "") or "")
        if name == "AbortError":
            return
        set_text(note, "Sharing did not work in this browser; use Download.")


def _wire_web_share() -> None:
    if not _can_share_files():
        return
    actions = dom.q(el("lightbox"), ".actions")
    btn = h("button", cls="btn", text="Share…", attrs={"id": "lightbox-share", "type": "button"})
    close = el("lightbox-close")
    actions.insertBefore(btn, close)
    on(btn, "click", share_current)


# ---------------------------------------------------------------------------------- drops
def _has_files(transfer) -> bool:
    transfer = dom.nn(transfer)
    types = dom.nn(transfer.types) if transfer is not None else None
    return types is not None and any(str(types[i]) == "Files" for i in range(types.length))


async def handle_drop(f) -> None:
    """A file dropped outside the reference panel: a ZIP is imported, an imagesynth PNG fills the
    form, any other image goes to the reference handler (or is explained)."""
    from . import gallery
    from .restore import RestoreError, restore

    name = str(f.name or "")
    mime = str(f.type or "")
    if name.lower().endswith(".zip") or mime in ("application/zip", "application/x-zip-compressed"):
        await gallery.import_file(f)
        return
    buf = await f.arrayBuffer()
    data = bytes(buf.to_py())
    try:
        settings, warnings = restore(data)
    except RestoreError as exc:
        take = _reference_take()
        if take is not None and (mime.startswith("image/") or data[:4] in (b"\x89PNG", b"RIFF")
                                 or data[:3] == b"\xff\xd8\xff"):
            await take(f, name, how="drop")
            return
        views.show_alert(Message("Nothing to restore", str(exc), "warn"), key="filled")
        return
    fill_form(settings, warnings, source="png")
    dom.focus(el("prompt"))


def _reference_take():
    try:
        from . import reference

        return getattr(reference, "take", None)
    except Exception:
        return None


def _wire_drop() -> None:
    """Capture drops on the window before the reference handler's document listener sees them;
    drops on the reference panel itself are left to it."""
    def drop(evt):
        if not _has_files(evt.dataTransfer):
            return
        target = dom.nn(evt.target)
        if target is not None and hasattr(target, "closest") and dom.nn(target.closest(_REFERENCE_AREA)) is not None:
            return
        f = dom.first_file(evt.dataTransfer)
        if f is None:
            return
        evt.preventDefault()
        evt.stopImmediatePropagation()
        # the reference handler counts drag enters/leaves; an empty drop resets its highlight
        document.body.removeAttribute("data-dragging")
        try:
            document.dispatchEvent(js.DragEvent.new("drop"))
        except Exception:
            pass
        dom.run_task(handle_drop(f))

    def over(evt):  # no navigation to the file if nothing else takes the drag
        if _has_files(evt.dataTransfer):
            evt.preventDefault()

    from pyodide.ffi import create_proxy

    for name, fn in (("drop", drop), ("dragover", over)):
        proxy = create_proxy(lambda evt, fn=fn: _safe(fn, evt))
        dom._proxies.append(proxy)
        window.addEventListener(name, proxy, dom.js_object({"capture": True}))


def _safe(fn, evt):
    try:
        fn(evt)
    except Exception as exc:
        dom.report(exc)


# ------------------------------------------------------------------------------------ boot
def wire() -> None:
    _wire_copy_link()
    _wire_web_share()
    _wire_drop()
    on(window, "hashchange", apply_fragment)
