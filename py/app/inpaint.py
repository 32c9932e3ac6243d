"""Edit (inpaint and outpaint) in the page: the mask editor over the reference image.

The editor component (``static/editor/mask-editor.js`` through ``app.editor``)
does the painting, the uploaded mask and the canvas extension; this module
puts it in the reference panel, adds the "Keep unpainted pixels" toggle and
turns the editor's state into the core's call form
``{"Text": prompt, "Image": exported image, "Mask": exported mask}``.

The exported mask is the API's convention (alpha 0 = repaint) and already
includes the image's own transparent pixels and any extended area, so a PNG
with transparency and nothing painted fills its transparent part, and an
extended canvas fills the new area.
"""

from __future__ import annotations

import asyncio
from typing import Any

import js

from . import dom
from .dom import el, h, on, set_text
from .state import app

PASTE_BACK_KEY = "imagesynth.inpaint.pasteBack"


class _State:
    editor: Any = None
    creating: Any = None  # the task creating the editor
    loaded: Any = None  # the Reference the editor shows
    wanted: Any = None  # the Reference it should show
    built: bool = False


state = _State()
_ui: dict[str, Any] = {}


def _stored_paste_back() -> bool:
    try:
        value = js.localStorage.getItem(PASTE_BACK_KEY)
    except Exception:
        return True
    value = dom.nn(value)
    return value != "0"


def _build() -> None:
    if state.built:
        return
    state.built = True
    box = el("inpaint")
    host = h("div", cls="inpaint-editor", attrs={"id": "inpaint-editor"})
    cb = h("input", attrs={"type": "checkbox", "id": "paste-back"})
    cb.checked = _stored_paste_back()

    def toggled(evt):
        try:
            js.localStorage.setItem(PASTE_BACK_KEY, "1" if cb.checked else "0")
        except Exception:
            pass

    on(cb, "change", toggled)
    keep = h("label", cb, h("span", text=" Keep unpainted pixels"), cls="check", attrs={"for": "paste-back"})
    keep_hint = h("span", cls="hint", attrs={"id": "paste-back-hint"},
                  text="The original pixels are put back outside the mask, so only the painted area changes.")
    cb.setAttribute("aria-describedby", "paste-back-hint")
    note = h("p", cls="inpaint-note muted", attrs={"id": "inpaint-note", "role": "status"})
    opts = h("div", h("div", keep, keep_hint, cls="inpaint-keep"), note, cls="inpaint-options")
    box.appendChild(host)
    box.appendChild(opts)
    _ui.update(host=host, paste_back=cb, note=note)


def _note(text: str) -> None:
    if "note" in _ui:
        set_text(_ui["note"], text)


def _explain(st: dict | None = None) -> None:
    """Say what Generate will repaint, in words."""
    ref = state.loaded
    if ref is None:
        _note("")
        return
    extended = bool(st and st.get("extended"))
    bits = ["Paint over the part to change (B brush, E eraser, [ ] size), or use “Upload mask”."]
    if ref.transparent:
        bits.append("The image's transparent part is repainted too.")
    if extended:
        w, hgt = st.get("width"), st.get("height")
        bits.append(f"The canvas is extended to {w}×{hgt}: the new area is filled.")
    _note(" ".join(bits))


async def _ensure_editor(ref) -> None:
    _build()
    state.wanted = ref
    if state.editor is None:
        from .editor import MaskEditor

        ed = await MaskEditor.create(_ui["host"], None)
        if state.editor is not None:  # created twice concurrently: keep the first
            ed.destroy()
        else:
            state.editor = ed
            vp = dom.q(_ui["host"], ".me-viewport")
            if vp is not None:
                vp.setAttribute("aria-label", "Mask editor canvas: paint the area of the reference image to change")
            ed.on_change(lambda st: _explain(st) if st.get("reason") in ("load", "extend", "undo", "redo") else None)
    if state.loaded is not state.wanted and state.wanted is not None:
        target = state.wanted
        await state.editor.load_image(target.data)
        state.loaded = target
        _explain(state.editor.state)
        _ui["host"].parentNode.setAttribute("data-loaded", "1")
        asyncio.ensure_future(_warm_upload(target))


async def _warm_upload(ref) -> None:
    """The reference's upload made while the user paints (``prepare.warm_upload``), for the
    model chosen now, so that Edit sends sooner.  Only a head start: if it fails, or the user
    picks another model first, the run makes its own upload and reports its own errors."""
    from imagesynth.models import default_model, profile_for
    from imagesynth.prepare import warm_upload

    await asyncio.sleep(0.3)  # after the editor has shown the image
    try:
        while state.loaded is ref and state.editor is not None and state.editor.js.getState().painting:
            await asyncio.sleep(0.1)  # between strokes: the resize holds the main thread ~100 ms
        if state.loaded is not ref or ref.picture is None:
            return
        profile = profile_for(str(el("model").value) or default_model(None, "edit"))
        if profile is not None:
            await warm_upload(app.imaging, profile, ref.picture)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        js.console.info(f"imagesynth: the upload was not made ahead ({exc})")


async def reference_changed(ref) -> None:
    from .reference import state as ref_state

    state.wanted = ref
    if ref_state.task == "edit":
        await _ensure_editor(ref)


async def task_changed(task: str, ref) -> None:
    box = el("inpaint")
    dom.show(box, task == "edit" and ref is not None)
    if task == "edit" and ref is not None:
        await _ensure_editor(ref)
        if state.editor is not None:
            state.editor.fit()


def drop_editor() -> None:
    if state.editor is not None:
        state.editor.destroy()
    state.editor = None
    state.loaded = None
    state.wanted = None
    try:
        box = el("inpaint")
        dom.show(box, False)
        box.setAttribute("data-loaded", "0")
    except LookupError:
        pass
    _note("")


async def edit_spec(prompt: str):
    """({"Text", "Image", "Mask"}, paste_back) from the editor as it is now."""
    from .reference import state as ref_state

    ref = ref_state.ref
    await _ensure_editor(ref)
    ed = state.editor
    # The reference itself unless the canvas was grown (as decoded when it was checked; a JPEG
    # stays known opaque), where exporting the editor's picture meant a 12 MP PNG encode and decode.
    image = ref.image() if ref is not None and ref.data and not ed.extended() else await ed.export_image()
    mask = await ed.export_mask_for(app.imaging)
    return {"Text": prompt, "Image": image, "Mask": mask}, bool(_ui["paste_back"].checked)
