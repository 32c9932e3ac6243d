"""The reference image: getting one in, the task switch, and the spec each task sends.

An image comes in by the file picker, by dropping a file anywhere on the page,
by pasting (Ctrl/Cmd+V outside text fields) or by "Use as reference" on a
result in the history or the large view.  Every one is judged by the core
before it is shown (``imagesynth.imaging.sniff`` on the bytes, then the page's
imaging ``decode``), and a refusal shows the core's own message, which says
why and what works.

The task switch (Generate / Variations / Edit) decides what the Generate
button sends: the prompt, the reference image (variations: the core picks the
provider's variations endpoint or an edit with a variation prompt), or
``{"Text", "Image", "Mask"}`` from the mask editor (``inpaint``).  Results go
through ``generate.run_generation`` like text-to-image ones: persisted, then
shown in the same history.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import js
from imagesynth import errors as E
from imagesynth.imaging import sniff
from imagesynth.imaging.base import Limits
from imagesynth.models import profile_for
from pyscript import document

from . import dom, generate, views
from .dom import el, h, on, set_text
from .messages import Message, describe
from .state import app

TASKS = (("generate", "Generate"), ("vary", "Variations"), ("edit", "Edit"))
_LIMITS = Limits()
# The biggest reference whose decoded pixels are kept between runs (4 bytes each: 96 MB here,
# beside the editor's own copy); a 6000x4000 photo still fits.
_KEEP_PICTURE_PIXELS = 24_000_000
_ACCEPT = "image/png,image/jpeg,image/webp,image/gif"
_BUTTON_TEXT = {"generate": "Generate", "vary": "Make variations", "edit": "Edit image"}
_PROMPT_LABEL = {"generate": "Describe the image", "vary": "Describe the image",
                 "edit": "Describe what to paint in the masked area"}
_PROMPT_PLACEHOLDER = {"generate": "A lighthouse on a cliff at dawn, watercolor",
                       "edit": "A red hot-air balloon in the sky"}


@dataclass
class Reference:
    """The chosen reference image: its bytes as given, and what the page shows and checks before a run."""
    data: bytes
    name: str
    fmt: str
    width: int
    height: int
    transparent: bool
    url: str = ""  # object URL of the preview
    #: the picture decoded when the image was checked, kept for the runs: decoding a 12 MP
    #: JPEG again at every click took ~150 ms before the request could leave. None for a
    #: picture too big to hold twice (the editor keeps its own copy): decoded per run then
    picture: Any = None

    def image(self) -> Any:
        """What a run sends as its image: the decoded picture where kept, else the bytes."""
        return self.picture if self.picture is not None else self.data


class _State:
    task: str = "generate"
    ref: Reference | None = None
    busy: int = 0  # intakes in progress (the latest one wins)
    seq: int = 0


state = _State()
_ui: dict[str, Any] = {}


# ------------------------------------------------------------------------------- intake
class _Head:
    """A file too big to read: its length and first bytes, so ``sniff.check`` can refuse it
    in its own words without the whole file crossing into Python."""

    def __init__(self, size: int, head: bytes):
        self._size, self._head = size, head

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, key):
        return self._head[key]


async def _file_bytes(file) -> bytes | _Head:
    size = int(file.size)
    if size > _LIMITS.max_bytes:
        head = await file.slice(0, 65536).arrayBuffer()
        return _Head(size, head.to_bytes())
    return (await file.arrayBuffer()).to_bytes()


async def check_image(data) -> Reference:
    """The core's verdict on untrusted bytes: a Reference, or ImageInputError in plain words."""
    fmt, _w, _h = sniff.check(data, _LIMITS.max_bytes, _LIMITS.max_pixels, _LIMITS.formats)
    data = bytes(data)
    pic = await app.imaging.decode(data, _LIMITS)
    w, hgt = app.imaging.size(pic)
    transparent = fmt in ("png", "webp", "gif") and bool(await app.imaging.has_transparency(pic))
    return Reference(data=data, name="", fmt=fmt, width=int(w), height=int(hgt), transparent=transparent,
                     picture=pic if w * hgt <= _KEEP_PICTURE_PIXELS else None)


async def take(source, name: str = "", *, how: str = "file") -> bool:
    """Judge ``source`` (bytes or a JS File/Blob) and make it the reference; False if refused."""
    state.seq += 1
    seq = state.seq
    _show_error(None)
    if state.task == "generate":  # an image arrived: show the panel where it (or why not) appears
        set_task("vary")
    _set_status(f"Checking {name or 'the image'}…")
    try:
        data = source if isinstance(source, (bytes, bytearray)) else await _file_bytes(source)
        ref = await check_image(data)
    except E.ImageSynthError as exc:
        if seq == state.seq:
            _set_status("")
            _show_error(exc, name)
        return False
    except Exception as exc:  # a decoder failure the core did not word: still no traceback
        if seq == state.seq:
            _set_status("")
            _show_error(E.ImageInputError(
                "The file could not be read as an image. PNG, JPEG, WebP or GIF files work."), name)
        js.console.warn(f"imagesynth: reference intake failed: {type(exc).__name__}: {exc}")
        return False
    if seq != state.seq:  # a newer image arrived meanwhile
        return False
    ref.name = name or {"paste": "Pasted image", "history": "Image from your history"}.get(how, "Image")
    await _set_reference(ref)
    return True


async def _set_reference(ref: Reference) -> None:
    old = state.ref
    if old is not None and old.url:
        js.URL.revokeObjectURL(old.url)
    ref.url = dom.object_url(dom.blob_from_bytes(ref.data, f"image/{ref.fmt}"))
    state.ref = ref
    _render_reference()
    from . import inpaint

    await inpaint.reference_changed(ref)
    _set_status(f"Reference: {ref.name}, {ref.width}×{ref.height}.")
    _ui["panel"].setAttribute("data-has-ref", "1")
    document.body.setAttribute("data-reference", f"{ref.width}x{ref.height}")


def clear_reference(evt=None) -> None:
    if state.ref is not None and state.ref.url:
        js.URL.revokeObjectURL(state.ref.url)
    state.ref = None
    _render_reference()
    from . import inpaint

    inpaint.drop_editor()
    _ui["panel"].setAttribute("data-has-ref", "0")
    document.body.removeAttribute("data-reference")
    _set_status("Reference removed.")
    dom.focus(_ui["choose"])


def _show_error(exc: BaseException | None, name: str = "") -> None:
    box = _ui["errors"]
    dom.clear(box)
    if exc is None:
        return
    msg = describe(exc)
    if name:  # the file may not be an image at all: name it rather than call it "this image"
        title = f"Can't use {name}" if isinstance(exc, E.ImageInputError) else f"{msg.title}: {name}"
        msg = Message(title, msg.text, msg.level)
    node = views.alert_node(msg)
    node.setAttribute("data-key", "reference")
    box.appendChild(node)


def _set_status(text: str) -> None:
    set_text(_ui["status"], text)


# ------------------------------------------------------------------------------ task switch
def set_task(task: str) -> None:
    state.task = task
    for value, _label in TASKS:
        radio = _ui[f"task-{value}"]
        radio.checked = value == task
    panel = _ui["panel"]
    panel.setAttribute("data-task", task)
    dom.show(panel, task != "generate")
    document.body.setAttribute("data-task", task)
    # the prompt: not used by variations, says what to paint for an edit
    dom.show(el("prompt"), task != "vary")
    label = dom.q(document, "label[for=prompt]")
    if label is not None:
        dom.show(label, task != "vary")
        set_text(label, _PROMPT_LABEL[task])
    if task in _PROMPT_PLACEHOLDER:
        el("prompt").setAttribute("placeholder", _PROMPT_PLACEHOLDER[task])
    btn = el("generate")
    if not btn.disabled:
        set_text(btn, _BUTTON_TEXT[task])
    _size_for(task)
    _render_reference()
    from . import inpaint

    dom.run_task(inpaint.task_changed(task, state.ref))


def _size_for(task: str) -> None:
    """Edit adds "Same as the image" to the size list, and starts there (an edit, an outpaint
    above all, keeps its own shape); other tasks get back the size chosen before."""
    sel = el("size")
    opt = dom.q(sel, "option[value=source]")
    if task == "edit":
        if opt is None:
            opt = h("option", text="Same as the image", attrs={"value": "source"})
            sel.insertBefore(opt, sel.firstChild)
        if str(sel.value) != "source":
            _ui["size-before"] = str(sel.value)
            sel.value = "source"
    elif opt is not None:
        was_source = str(sel.value) == "source"
        opt.remove()
        if was_source:
            sel.value = _ui.get("size-before") or "Large"
    sel.dispatchEvent(js.Event.new("change"))


def _render_reference() -> None:
    ref = state.ref
    task = state.task
    has = ref is not None
    dom.show(_ui["drop"], not has)
    dom.show(_ui["preview"], has and task == "vary")
    dom.show(_ui["ref-actions"], has)
    if has:
        dom.set_attr(_ui["img"], "src", ref.url)
        dom.set_attr(_ui["img"], "alt", f"Reference image: {ref.name}")
        bits = [f"{ref.width}×{ref.height}", sniff.nice_format(ref.fmt)]
        if ref.transparent:
            bits.append("has transparent areas")
        set_text(_ui["name"], ref.name)
        set_text(_ui["info"], " · ".join(bits))


# ------------------------------------------------------------------------------ the call
def _operation(task: str, model: str | None) -> str:
    if task == "edit":
        return "edit"
    profile = profile_for(model) if model else None
    return "variation" if profile is not None and profile.variation else "edit"


def _fit_options(options, operation: str):
    """Drop model parameters the operation does not take (the form shows the generate ones)."""
    profile = profile_for(options.model) if options.model else None
    if profile is None:
        return options
    allowed = profile.params_for(operation) or {}
    params = {k: v for k, v in options.params.items() if k in allowed}
    stream = options.stream
    if stream and ("stream" not in allowed or not profile.streaming):
        stream = False
    return dataclasses.replace(options, params=params, stream=stream)


async def spec_for(prompt: str, options):
    """generate.spec_hook: (spec, options, title) for the chosen task."""
    task = state.task
    if task == "generate":
        return prompt, options, None
    ref = state.ref
    if ref is None:
        dom.focus(_ui["choose"])
        raise E.InputError("Add a reference image first: choose a file, drop one on the page or paste one.")
    if task == "vary":
        opts = _fit_options(options, _operation("vary", options.model))
        return ref.image(), opts, f"Variations of {ref.name}"
    from . import inpaint

    if not prompt.strip():
        raise E.InputError("Describe what to paint in the masked area first.")
    spec, paste_back = await inpaint.edit_spec(prompt)
    size = None if options.image_size == "source" else options.image_size
    opts = _fit_options(dataclasses.replace(options, paste_back=paste_back, image_size=size), "edit")
    return spec, opts, f"Edit of {ref.name}: “{prompt}”"


# ------------------------------------------------------------------------------- wiring
def _is_text_field(node) -> bool:
    node = dom.nn(node)
    if node is None:
        return False
    tag = str(getattr(node, "tagName", "") or "").lower()
    if tag == "textarea":
        return True
    if tag == "input":
        return str(node.type).lower() in ("text", "search", "url", "email", "password", "number", "tel", "")
    return bool(getattr(node, "isContentEditable", False))


def _has_files(transfer) -> bool:
    transfer = dom.nn(transfer)
    if transfer is None:
        return False
    types = dom.nn(transfer.types)
    if types is None:
        return False
    return any(str(types[i]) == "Files" for i in range(types.length))


def _wire_drop() -> None:
    body = document.body
    depth = {"n": 0}

    def over(evt):
        if _has_files(evt.dataTransfer):
            evt.preventDefault()
            evt.dataTransfer.dropEffect = "copy"
            body.setAttribute("data-dragging", "1")
            # the overlay says what a drop here does: the reference panel takes any image as the
            # reference; elsewhere sharing.py restores an imagesynth PNG or imports a ZIP first
            target = dom.nn(evt.target)
            on_ref = (target is not None and hasattr(target, "closest")
                      and dom.nn(target.closest("#reference")) is not None)
            body.setAttribute("data-drag-where", "reference" if on_ref else "page")

    def enter(evt):
        if _has_files(evt.dataTransfer):
            depth["n"] += 1
            body.setAttribute("data-dragging", "1")

    def leave(evt):
        depth["n"] = max(0, depth["n"] - 1)
        if depth["n"] == 0:
            body.removeAttribute("data-dragging")
            body.removeAttribute("data-drag-where")

    async def drop(evt):
        depth["n"] = 0
        body.removeAttribute("data-dragging")
        body.removeAttribute("data-drag-where")
        f = dom.first_file(evt.dataTransfer)
        if f is None:
            return
        evt.preventDefault()
        await take(f, str(f.name or ""), how="drop")

    on(document, "dragover", over)
    on(document, "dragenter", enter)
    on(document, "dragleave", leave)
    # preventDefault must happen synchronously (before the task runs), or the browser opens the file
    on(document, "drop", lambda evt: (evt.preventDefault() if _has_files(evt.dataTransfer) else None,
                                      dom.run_task(drop(evt))))


def _wire_paste() -> None:
    def paste(evt):
        cd = dom.nn(evt.clipboardData)
        if cd is None:
            return
        f = dom.first_file(cd)
        if f is None:
            return
        if _is_text_field(evt.target) and str(cd.getData("text/plain") or ""):
            return  # text pasted into a text field stays text
        evt.preventDefault()
        dom.run_task(take(f, str(f.name or "") if str(f.name or "") not in ("", "image.png") else "",
                          how="paste"))

    on(document, "paste", paste)


async def _stored_bytes_for(img) -> bytes | None:
    """The full image as stored, for a gallery tile or the large view (their <img> may show only
    a thumbnail: gallery.py); None for anything else."""
    try:
        from . import gallery, store

        rec = views._current.get("rec") if dom.nn(img.closest("#lightbox")) is not None else gallery.record_for(img)
        return await store.full_bytes(rec) if rec is not None else None
    except Exception:
        return None


async def _image_bytes_from(img) -> bytes:
    """A shown result's pixels as PNG bytes (drawn to a canvas: blob: URLs cannot be fetched
    under the page's Content-Security-Policy)."""
    img.loading = "eager"
    await img.decode()
    w, hgt = int(img.naturalWidth), int(img.naturalHeight)
    canvas = document.createElement("canvas")
    canvas.width, canvas.height = w, hgt
    canvas.getContext("2d").drawImage(img, 0, 0)
    from pyodide.ffi import create_once_callable

    def executor(resolve, reject):
        canvas.toBlob(create_once_callable(resolve), "image/png")

    blob = await js.Promise.new(create_once_callable(executor))
    return (await blob.arrayBuffer()).to_bytes()


async def use_shown_image(img, name: str = "") -> None:
    data = await _stored_bytes_for(img) or await _image_bytes_from(img)
    if await take(data, name, how="history"):
        el("compose").scrollIntoView(dom.js_object({"block": "start"}))


def _use_button(img_getter, label: str):
    btn = h("button", cls="btn small ghost use-ref", text="Use as reference",
            attrs={"type": "button", "aria-label": label})

    async def click(evt):
        img = img_getter()
        if img is None:
            return
        box = el("lightbox")
        if box.open:
            box.close()
        prompt = str(img.getAttribute("alt") or "")
        await use_shown_image(img, f"“{prompt[:60]}”" if prompt else "")

    on(btn, "click", click)
    return btn


def _decorate_tile(tile) -> None:
    if str(getattr(tile, "tagName", "")).lower() != "li" or dom.q(tile, ".use-ref") is not None:
        return
    img = dom.q(tile, "img")
    if img is None:
        return
    alt = str(img.getAttribute("alt") or "image")
    holder = dom.q(tile, ".tile-actions") or tile
    holder.appendChild(_use_button(lambda: dom.q(tile, "img"), f"Use as reference: {alt}"))


def _wire_history() -> None:
    from pyodide.ffi import create_proxy

    gallery = el("gallery")
    for i in range(gallery.children.length):
        _decorate_tile(gallery.children.item(i))

    def mutated(records, observer):
        for r in records:
            for i in range(r.addedNodes.length):
                try:
                    _decorate_tile(r.addedNodes.item(i))
                except Exception as exc:
                    dom.report(exc)

    proxy = create_proxy(mutated)
    dom._proxies.append(proxy)
    js.MutationObserver.new(proxy).observe(gallery, dom.js_object({"childList": True}))
    actions = dom.q(el("lightbox"), ".actions")
    if actions is not None and dom.q(actions, ".use-ref") is None:
        btn = _use_button(lambda: el("lightbox-img"), "Use this image as the reference")
        btn.className = "btn use-ref"
        close = dom.q(actions, "#lightbox-close")
        actions.insertBefore(btn, close) if close is not None else actions.appendChild(btn)


def _build() -> None:
    """The task switch and the reference panel, at the top of the compose card."""
    compose = el("compose")
    form = el("gen-form")
    # task switch: radio buttons in index.html (arrow keys move between them, one tab stop)
    for value, _label in TASKS:
        radio = el(f"task-{value}")
        _ui[f"task-{value}"] = radio
        on(radio, "change", lambda evt, v=value: set_task(v) if evt.target.checked else None)
        radio.disabled = False
    # reference panel
    file_input = h("input", attrs={"type": "file", "id": "reference-file", "accept": _ACCEPT,
                                   "class": "sr-only", "tabindex": "-1", "aria-hidden": "true"})
    choose = h("button", cls="btn", text="Choose image…", attrs={"type": "button", "id": "reference-choose"})
    drop = h("div",
             h("p", cls="drop-title", text="Add a reference image"),
             h("p", cls="muted", text="Drop a PNG, JPEG, WebP or GIF here, paste one with "
                                      "Ctrl/⌘+V, or"),
             choose,
             cls="drop-zone", attrs={"id": "reference-drop"})
    img = h("img", attrs={"id": "reference-img", "alt": ""})
    name = h("p", cls="ref-name", attrs={"id": "reference-name"})
    info = h("p", cls="ref-info muted", attrs={"id": "reference-info"})
    # no run button here: the form's main button says "Make variations" (one action, asked once)
    preview = h("div", img, h("div", name, info, cls="ref-meta"), cls="ref-preview",
                attrs={"id": "reference-preview"})
    replace = h("button", cls="btn small", text="Replace image…", attrs={"type": "button", "id": "reference-replace"})
    remove = h("button", cls="btn small ghost", text="Remove", attrs={"type": "button", "id": "reference-remove"})
    ref_actions = h("div", replace, remove, cls="ref-actions", attrs={"id": "reference-actions"})
    editor_box = h("div", cls="inpaint", attrs={"id": "inpaint"})
    status = h("p", cls="ref-status muted", attrs={"id": "reference-status", "role": "status", "aria-live": "polite"})
    errors = h("div", cls="ref-errors", attrs={"id": "reference-errors"})
    panel = h("section", errors, drop, preview, editor_box, ref_actions, status, file_input,
              cls="reference-panel", attrs={"id": "reference", "aria-label": "Reference image", "hidden": True,
                                            "data-has-ref": "0"})
    compose.insertBefore(panel, form)
    _ui.update(panel=panel, drop=drop, choose=choose, file=file_input, img=img, name=name, info=info,
               preview=preview, status=status, errors=errors, editor=editor_box)
    _ui["ref-actions"] = ref_actions

    def pick(evt=None):
        file_input.click()

    on(choose, "click", pick)
    on(replace, "click", pick)
    on(remove, "click", clear_reference)

    async def chosen(evt):
        files = file_input.files
        f = files.item(0) if files is not None and files.length else None
        if f is None:
            return
        name_ = str(f.name or "")
        try:
            await take(f, name_, how="file")
        finally:
            file_input.value = ""

    on(file_input, "change", chosen)

    def keydown(evt):  # Ctrl/⌘+Enter runs the task from the editor too (it sits outside the form)
        if str(evt.key) == "Enter" and (evt.ctrlKey or evt.metaKey):
            evt.preventDefault()
            dom.run_task(generate.run_generation())

    on(panel, "keydown", keydown)


def start() -> None:
    _build()
    _wire_drop()
    _wire_paste()
    _wire_history()
    generate.spec_hook = spec_for
    set_task("generate")
