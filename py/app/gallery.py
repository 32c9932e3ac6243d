"""The gallery of everything made: newest first, thumbnails only, search by prompt,
favourites, delete with undo, export/import as a ZIP, storage use.

Why tiles in batches: a history of hundreds of images must open fast.  The
records (metadata and a small thumbnail Blob each) are read once; tiles are
built 60 at a time as the list scrolls into view, and each tile's ``<img>``
loads lazily.  Full images stay in IndexedDB until someone opens, copies,
downloads or exports one (``store.full_blob``).

Tiles are built by ``views.tile_node``; this module adds its controls to each
through ``views.tile_decorators`` (so a tile made by any other part of the app
gets them too).
"""

from __future__ import annotations

import asyncio
import time

import js
from pyodide.ffi import create_proxy

from . import dom, store, views
from .dom import el, h, on, set_text
from .messages import Message

BATCH = 60
UNDO_SECONDS = 8.0

records: list = []  # every record in this page, newest first (saved or not)
_state = {"query": "", "fav": False, "selecting": False, "shown": 0, "busy": False}
_selected: set[int] = set()  # id(rec) of selected records
_hidden: set[int] = set()  # id(rec) of records deleted but still undoable
_tiles: dict[int, object] = {}  # id(rec) → tile node
_observer = {"io": None, "sentinel": None}
_usage = {"task": None, "asked": False}


# ------------------------------------------------------------------------------- records
def _visible(rec) -> bool:
    if id(rec) in _hidden:
        return False
    if _state["fav"] and not rec.favourite:
        return False
    q = _state["query"]
    if q:
        text = " ".join([views.prompt_label(rec), str(rec.params.get("revised_prompt") or "")]).casefold()
        return all(word in text for word in q.split())
    return True


def filtered() -> list:
    return [r for r in records if _visible(r)]


def render(recs=None) -> None:
    """(Re)draw the gallery from ``records`` (replaced by ``recs`` when given)."""
    if recs is not None:
        records[:] = list(recs)
    gallery = el("gallery")
    dom.clear(gallery)
    _tiles.clear()
    _state["shown"] = 0
    _more()
    update_count()


def _more(evt=None) -> None:
    """Append the next batch of tiles."""
    items = filtered()
    start = _state["shown"]
    gallery = el("gallery")
    for rec in items[start:start + BATCH]:
        tile = views.tile_node(rec)
        gallery.appendChild(tile)
    _state["shown"] = min(len(items), start + BATCH)
    _watch_end(_state["shown"] < len(items))


def _watch_end(more: bool) -> None:
    """A sentinel after the last tile: when it scrolls near, the next batch comes."""
    sentinel = _observer["sentinel"]
    if sentinel is None:
        sentinel = h("div", cls="gallery-more", attrs={"aria-hidden": "true"})
        _observer["sentinel"] = sentinel
        el("gallery").after(sentinel)

        def seen(entries, observer):
            for i in range(entries.length):
                if entries[i].isIntersecting:
                    _more()
                    return

        _observer["io"] = js.IntersectionObserver.new(create_proxy(seen),
                                                      dom.js_object({"rootMargin": "800px"}))
        _observer["io"].observe(sentinel)
    sentinel.setAttribute("data-more", "1" if more else "0")
    if more:  # re-arm: the observer fires on changes only
        _observer["io"].unobserve(sentinel)
        _observer["io"].observe(sentinel)


def update_count() -> None:
    live = [r for r in records if id(r) not in _hidden]
    n = len(live)
    shown = len(filtered())
    if n and (_state["query"] or _state["fav"]):
        text = f"{shown} of {n} image{'s' if n != 1 else ''}"
    else:
        text = f"{n} image{'s' if n != 1 else ''}" if n else ""
    set_text(el("gallery-count"), text)
    empty = el("gallery-empty")
    if n and not shown:
        set_text(empty, "No image matches." if _state["query"] else "No favourites yet: star an image to keep it here.")
    elif not n:
        set_text(empty, "Images you make are kept in this browser and appear here, newest first.")
    dom.show(empty, shown == 0)
    _update_export_label()


# --------------------------------------------------------------------------- tile controls
def _decorate(tile, rec, actions) -> None:
    if rec not in records:  # a fresh result from generate.py (prepended by views.add_tile)
        records.insert(0, rec)
        if _visible(rec):  # its tile is already in the page: the next batch must not add it again
            _state["shown"] += 1
        schedule_usage()
    _tiles[id(rec)] = tile
    tile.setAttribute("data-fav", "1" if rec.favourite else "0")
    label = views.prompt_label(rec)
    star = h("button", cls="btn small ghost star", text="★" if rec.favourite else "☆",
             attrs={"type": "button", "aria-pressed": "true" if rec.favourite else "false",
                    "aria-label": f"Favourite: {label}", "title": "Favourite"})
    delete = h("button", cls="btn small ghost danger delete", text="Delete",
               attrs={"type": "button", "aria-label": f"Delete: {label}"})
    pick = h("input", cls="pick", attrs={"type": "checkbox", "aria-label": f"Select: {label}"})
    pick.checked = id(rec) in _selected
    tile.insertBefore(h("label", pick, cls="pick-box"), tile.firstChild)
    actions.appendChild(star)
    actions.appendChild(delete)
    if not rec.saved:
        star.disabled = True

    async def toggle_star(evt):
        rec.favourite = not rec.favourite
        set_text(star, "★" if rec.favourite else "☆")
        star.setAttribute("aria-pressed", "true" if rec.favourite else "false")
        tile.setAttribute("data-fav", "1" if rec.favourite else "0")
        try:
            await store.update(rec, favourite=rec.favourite)
        except Exception:
            views.show_alert(Message("Not saved", "The browser would not save the favourite mark.", "warn"),
                             key="fav")
        if _state["fav"] and not rec.favourite:
            tile.remove()
            update_count()

    def toggle_pick(evt):
        if pick.checked:
            _selected.add(id(rec))
        else:
            _selected.discard(id(rec))
        tile.classList.toggle("picked", bool(pick.checked))
        _update_export_label()

    on(star, "click", toggle_star)
    on(delete, "click", lambda evt: delete_with_undo([rec]))
    on(pick, "change", toggle_pick)


# ---------------------------------------------------------------------------- delete/undo
def delete_with_undo(recs: list) -> None:
    """Hide at once; delete for good when the undo time is over (or keep, on Undo)."""
    recs = [r for r in recs if id(r) not in _hidden]
    if not recs:
        return
    for r in recs:
        _hidden.add(id(r))
        _selected.discard(id(r))
        tile = _tiles.get(id(r))
        if tile is not None:
            tile.remove()
    update_count()
    n = len(recs)
    undo = h("button", cls="btn small", text="Undo", attrs={"type": "button"})
    toast = h("div", h("span", text=f"Deleted {n} image{'s' if n != 1 else ''}."), undo, cls="toast",
              attrs={"role": "status", "data-kind": "deleted"})
    _toasts().appendChild(toast)
    state = {"undone": False}

    def do_undo(evt):
        state["undone"] = True
        for r in recs:
            _hidden.discard(id(r))
        toast.remove()
        render()

    on(undo, "click", do_undo)

    async def later():
        await asyncio.sleep(UNDO_SECONDS)
        if state["undone"]:
            return
        toast.remove()
        ids = [r.id for r in recs if r.id is not None]
        try:
            if ids:
                await store.delete_many(ids)
        except Exception:
            for r in recs:
                _hidden.discard(id(r))
            render()
            views.show_alert(Message("Not deleted", "The browser would not delete the image(s); they are back "
                                     "in the gallery.", "warn"), key="delete")
            return
        for r in recs:
            _hidden.discard(id(r))
            if r in records:
                records.remove(r)
            _tiles.pop(id(r), None)
            views.forget_urls(r)
        update_count()
        schedule_usage()

    dom.run_task(later())


def _toasts():
    try:
        return el("toasts")
    except LookupError:
        box = h("div", cls="toasts", attrs={"id": "toasts", "aria-live": "polite"})
        js.document.body.appendChild(box)
        return box


# ------------------------------------------------------------------------------- toolbar
def _toolbar():
    search = h("input", cls="search", attrs={"id": "gallery-search", "type": "search",
                                              "placeholder": "Search prompts", "aria-label": "Search prompts",
                                              "autocomplete": "off", "spellcheck": "false"})
    fav = h("button", cls="btn small ghost", text="★ Favourites",
            attrs={"id": "gallery-fav", "type": "button", "aria-pressed": "false"})
    select = h("button", cls="btn small ghost", text="Select",
               attrs={"id": "gallery-select", "type": "button", "aria-pressed": "false"})
    export = h("button", cls="btn small", text="Export all",
               attrs={"id": "gallery-export", "type": "button"})
    delete_sel = h("button", cls="btn small ghost danger", text="Delete selected",
                   attrs={"id": "gallery-delete", "type": "button", "hidden": True})
    importer = h("input", attrs={"id": "gallery-import-file", "type": "file", "accept": ".zip,application/zip",
                                 "hidden": True})
    import_btn = h("button", cls="btn small ghost", text="Import…",
                   attrs={"id": "gallery-import", "type": "button"})
    usage = h("span", cls="muted usage", attrs={"id": "storage-usage"})
    status = h("p", cls="gallery-status muted", attrs={"id": "gallery-status", "role": "status"})
    bar = h("div", search, fav, select, delete_sel, export, import_btn, importer, cls="gallery-tools",
            attrs={"role": "toolbar", "aria-label": "Gallery"})
    head = dom.q(js.document, ".gallery-section .section-head")
    head.appendChild(usage)
    head.after(bar)
    bar.after(status)

    def searched(evt):
        _state["query"] = " ".join(str(search.value).casefold().split())
        render()

    def fav_toggle(evt):
        _state["fav"] = not _state["fav"]
        fav.setAttribute("aria-pressed", "true" if _state["fav"] else "false")
        render()

    def select_toggle(evt):
        _state["selecting"] = not _state["selecting"]
        select.setAttribute("aria-pressed", "true" if _state["selecting"] else "false")
        set_text(select, "Done selecting" if _state["selecting"] else "Select")
        el("gallery").classList.toggle("selecting", _state["selecting"])
        if not _state["selecting"]:
            _selected.clear()
            for node in js.document.querySelectorAll("#gallery .pick"):
                node.checked = False
            for node in js.document.querySelectorAll("#gallery .tile.picked"):
                node.classList.remove("picked")
        _update_export_label()

    on(search, "input", searched)
    on(fav, "click", fav_toggle)
    on(select, "click", select_toggle)
    on(export, "click", export_history)
    on(delete_sel, "click", lambda evt: delete_with_undo(_selection()))
    on(import_btn, "click", lambda evt: importer.click())

    async def chosen(evt):
        files = importer.files
        if files.length:
            f = files.item(0)
            importer.value = ""
            await import_file(f)

    on(importer, "change", chosen)


def _selection() -> list:
    return [r for r in records if id(r) in _selected and id(r) not in _hidden]


def _update_export_label() -> None:
    try:
        btn = el("gallery-export")
    except LookupError:
        return
    sel = _selection() if _state["selecting"] else []
    if _state["selecting"]:
        set_text(btn, f"Export selected ({len(sel)})")
        btn.disabled = not sel or _state["busy"]
    else:
        set_text(btn, "Export all")
        btn.disabled = not any(id(r) not in _hidden for r in records) or _state["busy"]
    dele = el("gallery-delete")
    dom.show(dele, _state["selecting"])
    dele.disabled = not sel


def _status(text: str) -> None:
    try:
        set_text(el("gallery-status"), text)
    except LookupError:
        pass


# -------------------------------------------------------------------------- export/import
async def export_history(evt=None) -> None:
    from . import archive

    recs = _selection() if _state["selecting"] else [r for r in records if id(r) not in _hidden]
    if not recs or _state["busy"]:
        return
    _state["busy"] = True
    _update_export_label()
    try:
        entries = []
        skipped = 0
        for k, rec in enumerate(recs):
            _status(f"Exporting {k + 1} of {len(recs)}…")
            try:
                data = await store.full_bytes(rec)
            except Exception:
                skipped += 1
                continue
            entries.append({"id": rec.id, "created": rec.created, "prompt": rec.prompt, "params": rec.params,
                            "favourite": rec.favourite, "png_bytes": data, "mime": rec.mime})
            if k % 8 == 7:
                await asyncio.sleep(0)  # let the page paint the progress
            if rec.blob is not None and rec.id is not None and rec is not views._current.get("rec"):
                rec.blob = None  # do not keep every full image in memory after the export
        data = archive.export_zip(entries)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"imagesynth-history-{stamp}.zip"
        _download(dom.blob_from_bytes(data, "application/zip"), name)
        n = len(entries)
        msg = f"Exported {n} image{'s' if n != 1 else ''} to {name}."
        if skipped:
            msg += f" {skipped} could not be read from this browser's store and are not in it."
        _status(msg)
    finally:
        _state["busy"] = False
        _update_export_label()


def _download(blob, name: str) -> None:
    url = dom.object_url(blob)
    a = h("a", attrs={"href": url, "download": name, "hidden": True})
    js.document.body.appendChild(a)
    a.click()
    a.remove()

    async def revoke():
        await asyncio.sleep(60)
        js.URL.revokeObjectURL(url)

    dom.run_task(revoke())


async def _existing_hashes() -> set[str]:
    import hashlib

    out = set()
    for rec in records:
        if not rec.saved:
            continue
        if not rec.sha256:  # records from before hashes were stored
            try:
                data = await store.full_bytes(rec)
                rec.sha256 = hashlib.sha256(data).hexdigest()
                rec.blob = None
                await store.update(rec, sha256=rec.sha256)
            except Exception:
                continue
        out.add(rec.sha256)
    return out


async def import_file(file) -> None:
    from . import archive

    if _state["busy"]:
        return
    _state["busy"] = True
    _update_export_label()
    views.clear_alert("import")
    try:
        _status(f"Reading {file.name}…")
        buf = await file.arrayBuffer()
        data = bytes(buf.to_py())
        result = archive.import_zip(data, await _existing_hashes())
        added, failed_quota, failed = [], 0, 0
        for k, entry in enumerate(result.new_entries):
            _status(f"Importing {k + 1} of {len(result.new_entries)}…")
            params = dict(entry.get("params") or {})
            if entry.get("prompt") and not params.get("prompt"):
                params["prompt"] = entry["prompt"]
            try:
                rec = await store.save_bytes(entry["png_bytes"], entry.get("mime") or "image/png",
                                             int(entry.get("width") or 0), int(entry.get("height") or 0), params,
                                             created=entry.get("created"), favourite=bool(entry.get("favourite")),
                                             sha256=entry.get("sha256") or "")
            except store.StorageError as exc:
                if exc.quota:
                    failed_quota += 1
                    break
                failed += 1
                continue
            rec.blob = None  # the store has it; keep memory low
            added.append(rec)
        records.extend(added)
        records.sort(key=lambda r: r.created or 0, reverse=True)
        render()
        summary = result.summary
        if len(added) != len(result.new_entries):
            summary = summary.replace(f"Imported {len(result.new_entries)} image",
                                      f"Imported {len(added)} of {len(result.new_entries)} new image", 1)
        details = list(result.errors) + list(result.notes)
        if failed_quota:
            details.insert(0, "This browser's storage is full, so the import stopped. Delete older images or "
                              "allow more storage, then import the archive again (what is in already is "
                              "recognised).")
        if failed:
            details.insert(0, f"The browser refused to save {failed} image{'s' if failed != 1 else ''}.")
        level = "warn" if (result.errors or failed or failed_quota) else "info"
        extra = None
        if details:
            extra = h("ul", cls="alert-list")
            for line in details[:20]:
                extra.appendChild(h("li", text=line))
        node = views.alert_node(Message("Import finished", summary, level), extra=extra)
        node.setAttribute("data-key", "import")
        node.setAttribute("data-imported", len(added))
        node.setAttribute("data-duplicates", len(result.duplicates))
        el("alerts").prepend(node)
        _status(summary)
        schedule_usage()
    finally:
        _state["busy"] = False
        _update_export_label()


# --------------------------------------------------------------------------------- storage
def _mb(n: float) -> str:
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    if n < 1024 ** 3:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{n / 1024 ** 3:.1f} GB"


async def refresh_usage() -> None:
    from pyscript.js_modules import idb

    try:
        est = await idb.estimate()
        usage, quota = float(est.usage or 0), float(est.quota or 0)
        persisted = bool(await idb.persisted())
    except Exception:
        return
    text = f"{_mb(usage)} used"
    if quota:
        text += f" of {_mb(quota)}"
    text += " · kept persistently" if persisted else " · the browser may clear it when space runs low"
    node = el("storage-usage")
    set_text(node, text)
    node.setAttribute("data-usage", int(usage))
    node.setAttribute("data-persisted", "1" if persisted else "0")
    views.render_about({"Storage": text})


def schedule_usage() -> None:
    """Refresh the usage line soon (debounced); ask for persistent storage once images exist."""
    if _usage["task"] is not None and not _usage["task"].done():
        return

    async def later():
        await asyncio.sleep(0.5)
        if not _usage["asked"] and any(r.saved for r in records):
            _usage["asked"] = True
            try:
                from pyscript.js_modules import idb

                await idb.persist()
            except Exception:
                pass
        await refresh_usage()

    _usage["task"] = dom.run_task(later())


async def backfill_thumbs() -> None:
    """Records saved before thumbnails existed get one, a few at a time, in the background."""
    from . import thumbs

    for rec in [r for r in records if r.thumb is None and r.saved and r.id is not None]:
        try:
            blob = await store.full_blob(rec)
            if blob is None:
                continue
            rec.thumb = await thumbs.make(blob)
            if rec.thumb is not None:
                await store.update(rec, thumb=rec.thumb)
                tile = _tiles.get(id(rec))
                img = dom.q(tile, ".thumb img") if tile is not None else None
                if img is not None:
                    img.setAttribute("src", views.thumb_url(rec))
            if rec is not views._current.get("rec"):
                rec.blob = None
        except Exception:
            continue
        await asyncio.sleep(0)


def record_for(node):
    """The record of the tile holding ``node`` (for other modules: e.g. "Use as reference"
    wants the full image, ``await store.full_blob(record_for(node))``, not the thumbnail)."""
    tile = dom.nn(node.closest(".tile")) if hasattr(node, "closest") else None
    for rec in records:
        if _tiles.get(id(rec)) is not None and tile is not None and _tiles[id(rec)] == tile:
            return rec
    return None


# ------------------------------------------------------------------------------------ boot
def wire() -> None:
    views.tile_decorators.append(_decorate)
    views._update_count = update_count  # the count is ours: filtered and undo-aware
    _toolbar()
    _update_export_label()
    schedule_usage()
