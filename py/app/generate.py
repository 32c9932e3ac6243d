"""The Generate form → ``Options`` → ``synthesize``; one progress card per run.

Each run shows a row per image (stage, ticking elapsed time, partial
previews while streaming) and a Cancel button that cancels the asyncio task,
which aborts the fetches.  A finished image is written to IndexedDB first and
shown second (persist before display).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from imagesynth import errors as E
from imagesynth.models import MODELS, default_model, image_models, profile_for
from imagesynth.progress import ProgressEvent

if TYPE_CHECKING:
    from imagesynth.orchestrate import Options

# imagesynth.orchestrate (with the protocol, retry and finishing code it pulls in) is
# imported when a run starts, not at boot: Generate is usable ~20 ms sooner, and app/boot.py
# imports it once the rest of the page is wired (before data-wired), so a first click
# finds it loaded.

from . import dom, store, views
from .dom import el, h, on, set_text
from .messages import Message, describe, retrying
from .state import app

# Controls the model table can switch on, in display order: (param, label).
_PARAM_CONTROLS = (
    ("quality", "Quality"),
    ("style", "Style"),
    ("background", "Background"),
    ("output_format", "Format"),
    ("moderation", "Moderation"),
)
_STAGE_TEXT = {
    "preparing": "Preparing",
    "uploading": "Sending",
    "waiting": "Waiting for the model",
    "decoding": "Finishing",
    "done": "Done",
}

_runs: list["Run"] = []

#: set by reference.py: ``await spec_hook(prompt, options)`` -> (spec, options, title) for the
#: task chosen in the form (variations, edit); None: text to image
spec_hook = None


# ----------------------------------------------------------------------------- model list
def set_models(ids: list[str] | None) -> None:
    """Fill the model select with the endpoint's image models the table knows."""
    known = image_models(ids or [])
    if not known:
        known = [m.id for m in MODELS.values() if m.generate]
    known = [m for m in known if (profile_for(m) and profile_for(m).generate)]
    known.sort(key=lambda m: (profile_for(m).released, m), reverse=True)
    sel = el("model")
    previous = str(sel.value)
    dom.clear(sel)
    for mid in known:
        sel.appendChild(h("option", text=mid, attrs={"value": mid}))
    conn = app.connection
    guess = None
    if conn is not None and conn.kind == "azure" and conn.deployment:
        p = profile_for(conn.deployment)
        guess = p.id if p else None
    pick = previous if previous in known else (guess if guess in known else default_model(known or None))
    if pick in known:
        sel.value = pick
    sel.disabled = False
    update_params()


def update_params(evt=None) -> None:
    """Show the controls the chosen model takes (the model table decides)."""
    box = el("model-params")
    old = {}
    for i in range(box.children.length):
        node = box.children.item(i)
        ctl = dom.q(node, "select, input")
        if ctl is not None:
            old[str(ctl.id)] = ctl.checked if str(ctl.type) == "checkbox" else str(ctl.value)
    dom.clear(box)
    profile = profile_for(str(el("model").value))
    if profile is None:
        return
    params = profile.params_for("generate")
    for name, label in _PARAM_CONTROLS:
        if name not in params:
            continue
        values = params[name]
        if not values:
            continue
        cid = f"param-{name}"
        sel = h("select", attrs={"id": cid, "name": name})
        sel.appendChild(h("option", text="Default", attrs={"value": ""}))
        for v in values:
            sel.appendChild(h("option", text=str(v), attrs={"value": str(v)}))
        if old.get(cid) in [str(v) for v in values]:
            sel.value = old[cid]
        box.appendChild(h("div", h("label", text=label, attrs={"for": cid}), sel, cls="control"))
    if profile.streaming and "stream" in params:
        cb = h("input", attrs={"type": "checkbox", "id": "param-stream", "name": "stream"})
        cb.checked = old.get("param-stream", True)
        box.appendChild(h("div", h("label", cb, " Stream previews", cls="check", attrs={"for": "param-stream"}),
                          cls="control"))


def _size_changed(evt=None) -> None:
    dom.show(el("custom-size"), str(el("size").value) == "custom")
    _show_size_error("")


class SizeError(E.InputError):
    """The custom size is one the chosen model cannot make (shown by the size field)."""


def _show_size_error(text: str) -> None:
    box = el("size-error")
    set_text(box, text)
    dom.show(box, bool(text))
    for sel in ("width", "height"):
        if text:
            el(sel).setAttribute("aria-invalid", "true")
        else:
            el(sel).removeAttribute("aria-invalid")


def check_custom_size(options: Options) -> None:
    """Ask the core whether the chosen model can make the custom size; SizeError if not."""
    from imagesynth.sizes import resolve_size

    if str(el("size").value) != "custom" or not isinstance(options.image_size, tuple):
        return
    profile = profile_for(options.model or default_model(app.models or None))
    if profile is None:  # a model the table does not know: the endpoint decides
        return
    try:
        resolve_size(profile, options.image_size)
    except E.InputError as exc:
        raise SizeError(str(exc)) from None


# ------------------------------------------------------------------------------ form → call
def read_options() -> tuple[str, Options]:
    prompt = str(el("prompt").value)
    try:
        n = int(str(el("n").value).strip() or "1")
    except ValueError:
        raise E.InputError("“Images” must be a whole number from 1 to 10.") from None
    if not 1 <= n <= 10:
        raise E.InputError("“Images” must be a whole number from 1 to 10.")
    size_value = str(el("size").value)
    if size_value == "custom":
        try:
            w = int(str(el("width").value))
            hgt = int(str(el("height").value))
        except ValueError:
            raise E.InputError("Enter the width and height in whole pixels.") from None
        if w <= 0 or hgt <= 0:
            raise E.InputError("Enter the width and height in whole pixels.")
        image_size = (w, hgt)
    else:
        image_size = size_value
    model = str(el("model").value) or None
    params = {}
    stream = None
    box = el("model-params")
    for name, _label in _PARAM_CONTROLS:
        node = dom.q(box, f"#param-{name}")
        if node is not None and str(node.value):
            params[name] = str(node.value)
    cb = dom.q(box, "#param-stream")
    if cb is not None:
        stream = bool(cb.checked)
    elif model and profile_for(model) and not profile_for(model).streaming:
        stream = False
    from imagesynth.orchestrate import Options

    return prompt, Options(n=n, image_size=image_size, model=model, params=params, stream=stream,
                           partial_images=2)


def _fmt(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:4.1f} s"
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d} min"


# -------------------------------------------------------------------------------- one run
class Row:
    def __init__(self, index: int, total: int):
        self.index = index
        self.finished_at: float | None = None
        self.preview = h("img", cls="row-preview", attrs={"alt": "", "aria-hidden": "true"})
        self.stage = h("div", cls="row-stage", text="Queued")
        self.time = h("div", cls="row-time", text=_fmt(0))
        self.node = h("li", self.preview,
                      h("div", h("div", cls="row-name", text=f"Image {index + 1} of {total}"), self.stage, self.time,
                        cls="row-text"),
                      cls="row", attrs={"data-stage": "queued", "data-index": index})
        self._preview_url = None
        self.partials = 0
        self.retries: list[str] = []

    def set_stage(self, stage: str, text: str) -> None:
        self.node.setAttribute("data-stage", stage)
        set_text(self.stage, text)
        if stage in ("done", "failed", "cancelled") and self.finished_at is None:
            self.finished_at = time.monotonic()

    def set_preview(self, data: bytes, mime: str = "image/png", *, partial: bool = True) -> None:
        import js

        url = dom.object_url(dom.blob_from_bytes(data, mime))
        self.preview.setAttribute("src", url)
        self.preview.setAttribute("data-partial", "1" if partial else "0")
        if self._preview_url:
            js.URL.revokeObjectURL(self._preview_url)
        self._preview_url = url

    def show_url(self, url: str) -> None:
        """Show the finished image from an object URL someone else owns (the gallery's, so the
        run row and the tile share one URL and one decode)."""
        import js

        self.preview.setAttribute("src", url)
        self.preview.setAttribute("data-partial", "0")
        if self._preview_url:
            js.URL.revokeObjectURL(self._preview_url)
        self._preview_url = None


# How long a finished image waits for its run's pending record (normally written in ms).
_RECORD_WAIT_S = 5.0


class Run:
    def __init__(self, prompt: str, options: Options, title: str | None = None):
        self.prompt = prompt
        self.options = options
        self.started = time.monotonic()
        self.rows = [Row(i, options.n) for i in range(options.n)]
        self.task: asyncio.Task | None = None
        self.ended = False
        self.failures: list[Message] = []  # distinct messages of failed images
        self.source = ""  # the reference image's name, for variations and edits
        self.pending: asyncio.Future | None = None  # history.run_started's write, under way
        self.title = h("p", cls="run-title", text=title or f"“{prompt}”")
        self.elapsed = h("span", cls="run-elapsed", text=_fmt(0), attrs={"aria-hidden": "true"})
        self.cancel_btn = h("button", cls="btn small danger", text="Cancel",
                            attrs={"type": "button", "aria-label": "Cancel this generation"})
        self.status = h("p", cls="sr-only", attrs={"role": "status"})
        lst = h("ul", cls="run-rows")
        for r in self.rows:
            lst.appendChild(r.node)
        self.node = h("section", h("div", self.title, self.elapsed, self.cancel_btn, cls="run-head"), self.status,
                      lst, cls="card run", attrs={"aria-label": f"Generating {options.n} image(s)", "data-state": "running"})
        on(self.cancel_btn, "click", self.cancel)

    async def record_id(self) -> int | None:
        """The pending record's id (None if the browser would not write it). Shielded: a run
        cancelled while its image is being saved must not cancel the write that end_record
        deletes again, or the next page would report the run as interrupted. Bounded: an image
        already paid for is never held back by a record write that does not finish."""
        if self.pending is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(self.pending), _RECORD_WAIT_S)
        except Exception:  # noqa: BLE001 - store.start_run says None itself; a timeout or anything else: no record
            return None

    async def end_record(self) -> None:
        """Delete the pending record, however late its write finishes (no bound here: a record
        left behind would call this finished run interrupted on the next visit)."""
        from . import history

        if self.pending is None:
            return
        try:
            run_id = await asyncio.shield(self.pending)
        except Exception:  # noqa: BLE001 - nothing was written
            return
        await history.run_ended(run_id)

    def cancel(self, evt=None) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def tick(self) -> None:
        while not self.ended:
            now = time.monotonic()
            set_text(self.elapsed, _fmt(now - self.started))
            for r in self.rows:
                end = r.finished_at if r.finished_at is not None else now
                set_text(r.time, _fmt(end - self.started))
            await asyncio.sleep(0.1)

    async def on_progress(self, ev: ProgressEvent) -> None:
        row = self.rows[ev.index] if 0 <= ev.index < len(self.rows) else None
        if row is None:
            return
        stage = ev.stage
        if stage == "partial":
            k = (ev.partial_index or 0) + 1
            total = ev.partial_count or k
            row.set_stage("partial", f"Preview {k} of {total}")
            if ev.image:
                row.set_preview(ev.image)
                row.partials += 1
                row.node.setAttribute("data-partials", row.partials)
        elif stage == "retrying":
            msg = retrying(ev.error, ev.message)
            row.retries.append(msg.title)
            row.node.setAttribute("data-retries", len(row.retries))
            row.set_stage("retrying", f"{msg.title}: {msg.text}")
        elif stage == "failed":
            msg = describe(ev.error) if ev.error is not None else Message("Failed", ev.message or "Failed")
            row.set_stage("failed", msg.title)
            if msg not in self.failures:
                self.failures.append(msg)
        elif stage == "done":
            await self.deliver(row, ev.image)
        else:
            row.set_stage(stage, _STAGE_TEXT.get(stage, stage.capitalize()))

    async def deliver(self, row: Row, image) -> None:
        """Persist, then display."""
        note, bad = "", False
        early = {}
        if self.source and isinstance(image.params, dict):  # what a variation (no prompt) was made from
            image.params.setdefault("source", self.source)
        try:
            # the full image only: committed before it is shown; the thumbnail comes after
            rec = await store.save(image, run=await self.record_id(), thumb=False,
                                   on_blob=lambda blob: early.update(img=views.predecode(blob), blob=blob))
        except store.StorageError as exc:  # shown all the same, from the Blob made for the save
            rec = store.Record(id=None, created=time.time() * 1000,
                               prompt=str(image.params.get("prompt") or self.prompt), mime=image.mime,
                               width=image.width, height=image.height, params=dict(image.params),
                               blob=early.get("blob") or dom.blob_from_bytes(image.data, image.mime), saved=False)
            note, bad = "Not saved in this browser: download it to keep it.", True
            from . import history

            history.storage_refused(rec, exc)  # says so, with the image's download
        if "img" in early:
            views.adopt(rec, early["img"])
        text = "Done · saved" if rec.saved else "Done · not saved"
        if row.retries:
            k = len(row.retries)
            text += f" (after {k} retr{'y' if k == 1 else 'ies'}: {row.retries[-1].split(' — ')[0].lower()})"
        row.set_stage("done", text)
        if not rec.saved:
            row.node.setAttribute("data-saved", "0")
        try:  # the record's own Blob and object URL: no second copy of the bytes, one decode
            row.show_url(views.full_url_now(rec))
        except Exception:
            pass
        tile = views.add_tile(rec, fresh=True, note=note, note_bad=bad, img=early.get("img"))
        if rec.saved:
            await self._thumbnail(row, rec, tile)

    async def _thumbnail(self, row: Row, rec, tile) -> None:
        """After the image is shown: make and store its thumbnail, and let the tile use it.
        The tile shows the full image until then; a record left without one (the page closed
        first) gets it on the next load (gallery.backfill_thumbs)."""
        try:  # let the browser decode and paint the full image first
            await asyncio.wait_for(row.preview.decode(), 2.0)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                raise
        if await store.add_thumb(rec):
            try:
                img = dom.q(tile, ".thumb img")
                if img is not None:
                    img.setAttribute("src", views.thumb_url(rec))
            except Exception:
                pass

    def finish(self, error: BaseException | None, cancelled: bool) -> None:
        self.ended = True
        set_text(self.elapsed, _fmt(time.monotonic() - self.started))
        self.cancel_btn.remove()
        dismiss = h("button", cls="btn small ghost", text="Dismiss", attrs={"type": "button"})
        on(dismiss, "click", lambda evt: self.node.remove())
        if cancelled:
            for r in self.rows:
                if r.finished_at is None:
                    r.set_stage("cancelled", "Cancelled")
            self.node.setAttribute("data-state", "cancelled")
            self.node.appendChild(views.alert_node(
                Message("Cancelled", "The request was stopped. Images that had already arrived are kept.", "info"),
                dismiss=False))
            set_text(self.status, "Cancelled")
            dom.q(self.node, ".run-head").appendChild(dismiss)
            return
        if error is None:
            self.node.setAttribute("data-state", "done")
            set_text(self.status, "Done")
            dom.q(self.node, ".run-head").appendChild(dismiss)
            run_node = self.node

            async def fade():
                await asyncio.sleep(4)
                run_node.remove()

            dom.run_task(fade())
            return
        self.node.setAttribute("data-state", "failed")
        first = describe(error)
        messages = [first] + [m for m in self.failures if m != first]
        got = len(getattr(error, "partial_results", []) or [])
        if got:
            messages[0] = Message(first.title, f"{first.text} ({got} of {self.options.n} images arrived and "
                                  "are saved.)", first.level)
        for r in self.rows:
            if r.finished_at is None:
                r.set_stage("failed", first.title)
        for msg in messages:
            self.node.appendChild(views.alert_node(msg, dismiss=False))
        set_text(self.status, first.title)
        dom.q(self.node, ".run-head").appendChild(dismiss)


async def run_generation(evt=None) -> None:
    if not app.ready:
        return
    views.clear_alert("form")
    try:
        from imagesynth.orchestrate import synthesize  # (loaded after boot: see the imports above)
    except Exception as exc:  # an incomplete site: said here, before any run card exists
        views.show_error(exc, key="form")
        return
    from .connect import connecting, show_panel

    if not await connecting():  # a connection being put in use right now is waited for
        chosen = app.connection
        if chosen is None:
            msg = Message("Choose where images come from first",
                          "Open “Connection”, pick a provider and press “Use this connection”.", "warn")
        else:  # chosen (saved, perhaps), but its check failed or its key is gone: the panel says which
            msg = Message(f"{chosen.label()} is not connected",
                          "The Connection panel says what went wrong. Put it right there and press "
                          "“Use this connection”, or choose another provider.", "warn")
        views.show_alert(msg, key="form")
        show_panel(True, focus=True)
        return
    try:
        prompt, options = read_options()
        check_custom_size(options)
        spec, title = prompt, None
        if spec_hook is not None:
            spec, options, title = await spec_hook(prompt, options)
        if isinstance(spec, str) and not spec.strip():
            raise E.InputError("Type a description of the image first.")
    except SizeError as exc:  # by the size field, no run card
        _show_size_error(str(exc))
        dom.focus(el("width"))
        return
    except E.ImageSynthError as exc:
        views.show_error(exc, key="form")
        dom.focus(el("prompt"))
        return
    _show_size_error("")
    run = Run(prompt, options, title)
    if not isinstance(spec, str):
        from . import reference

        ref = reference.state.ref
        run.source = ref.name if ref is not None else ""
    el("runs").prepend(run.node)
    _runs.append(run)
    from . import history

    # A pending record, so a page that dies mid-request leaves an "interrupted" entry. Its write
    # is asked for now and awaited only where its id is needed (saving an image, the end): the
    # request no longer waits ~20 ms for IndexedDB first.
    run.pending = asyncio.ensure_future(history.run_started(prompt, options.n))
    dom.run_task(run.tick())
    error: BaseException | None = None
    cancelled = False
    run.task = asyncio.ensure_future(synthesize(
        spec, app.endpoint(), options=options, transport=app.transport, imaging=app.imaging,
        progress=run.on_progress, available_models=app.models or None))
    try:
        await run.task
    except asyncio.CancelledError:
        cancelled = True
        if not run.task.cancelled():  # the handler itself was cancelled, not the run
            raise
    except E.Cancelled:
        cancelled = True
    except Exception as exc:
        error = exc
    finally:
        run.finish(error, cancelled)
        dom.run_task(run.end_record())
        if run in _runs:
            _runs.remove(run)


def start() -> None:
    form = el("gen-form")
    on(form, "submit", run_generation, prevent_default=True)

    def keydown(evt):
        if str(evt.key) == "Enter" and (evt.ctrlKey or evt.metaKey):
            evt.preventDefault()
            dom.run_task(run_generation())

    on(form, "keydown", keydown)
    on(el("size"), "change", _size_changed)
    on(el("model"), "change", update_params)
    for sel in ("width", "height", "model"):  # a fixed size, another model: the old complaint may not hold
        on(el(sel), "input" if sel != "model" else "change", lambda evt: _show_size_error(""))
    _size_changed()
    btn = el("generate")
    btn.disabled = False
    set_text(btn, "Generate")
