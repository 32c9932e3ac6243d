"""Python glue for the canvas mask editor (``static/editor/mask-editor.js``).

The editor itself is JavaScript on purpose: painting has to keep up with the
pointer on a 2048² image (pointer event -> pixels on screen inside one 16 ms
frame), and crossing the Pyodide FFI for every pointer event (and every
coalesced sample in it) costs more than that. So pointer handling, brush
stamping, zoom/pan and rendering stay in JS, and Python drives the editor
through this small API: create it on an element, hand it an image, read back
the mask and image as PNG bytes, listen for changes.

    from editor import MaskEditor            # or: from app.editor import ...
    ed = await MaskEditor.create("#editor", image_bytes)
    unsubscribe = ed.on_change(lambda state: print(state["canUndo"]))
    mask_png = await ed.export_mask()        # RGBA, alpha 0 = area to change
    image_png = await ed.export_image()      # (possibly extended) image
    ed.extend(right=256)                     # outpainting
    ed.destroy()

Mask convention (the Images API's): RGBA PNG the size of the (possibly
extended) image, alpha 0 where the user painted and where the image is itself
transparent (outpainting areas), alpha 255 elsewhere; soft edges give values
in between.

Loading the JS needs no ``eval``: a ``<script type="module">`` and a
stylesheet link are added to the page once, so it works under a strict
Content-Security-Policy. Browser-only modules are imported lazily, so this
file also imports (and its pure helpers run) in CPython.
"""
from __future__ import annotations

from typing import Any, Callable

MODULE_URL = "static/editor/mask-editor.js"
CSS_URL = "static/editor/mask-editor.css"
SETTINGS_KEY = "imagesynth.editor.settings"
GLOBAL_NAME = "ImagesynthMaskEditor"

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_mime(data: bytes) -> str:
    """The image type of ``data`` from its first bytes ('' if unknown)."""
    head = bytes(data[:16])
    for sig, mime in _SIGNATURES:
        if head.startswith(sig):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return ""


def _js():
    import js  # noqa: PLC0415 - browser only

    return js


def _is_undefined(value: Any) -> bool:
    """JS undefined (None in Python) or null (``pyodide.ffi.jsnull``)."""
    if value is None:
        return True
    try:
        from pyodide.ffi import jsnull  # noqa: PLC0415
    except ImportError:
        return False
    return value is jsnull


def _js_object(d: dict) -> Any:
    from pyodide.ffi import to_js  # noqa: PLC0415

    return to_js(d, dict_converter=_js().Object.fromEntries)


def to_blob(data: Any, mime: str = "") -> Any:
    """bytes-like -> JS Blob; a JS Blob/File (or anything else JS) passes through."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        from pyodide.ffi import to_js  # noqa: PLC0415

        js = _js()
        raw = bytes(data)
        return js.Blob.new(js.Array.of(to_js(raw)), _js_object({"type": mime or sniff_mime(raw)}))
    return data


async def blob_bytes(blob: Any) -> bytes:
    """JS Blob -> bytes."""
    buf = await blob.arrayBuffer()
    return buf.to_bytes()


_module: Any = None


async def load_module(module_url: str = MODULE_URL, css_url: str | None = CSS_URL) -> Any:
    """Load the editor's JS module (and stylesheet) once; returns its namespace."""
    global _module
    if _module is not None:
        return _module
    js = _js()
    from pyodide.ffi import create_once_callable  # noqa: PLC0415

    ns = getattr(js.globalThis, GLOBAL_NAME, None)
    if _is_undefined(ns):
        doc = js.document
        if css_url and _is_undefined(doc.querySelector(f'link[href="{css_url}"]')):
            link = doc.createElement("link")
            link.rel = "stylesheet"
            link.href = css_url
            doc.head.append(link)
        script = doc.createElement("script")
        script.type = "module"
        script.src = module_url

        def executor(resolve, reject):
            script.addEventListener("load", resolve)
            script.addEventListener(
                "error", create_once_callable(lambda _e: reject(js.Error.new(f"could not load {module_url}")))
            )

        loaded = js.Promise.new(create_once_callable(executor))
        doc.head.append(script)
        await loaded
        ns = getattr(js.globalThis, GLOBAL_NAME)
    _module = ns
    return ns


class MaskEditor:
    """A mask editor on a page element. Create with ``await MaskEditor.create(...)``."""

    def __init__(self, js_editor: Any):
        self.js = js_editor
        self._unsubscribers: list[Callable[[], None]] = []

    @classmethod
    async def create(
        cls,
        container: Any,
        image: Any = None,
        *,
        settings: dict | None = None,
        storage_key: str | None = SETTINGS_KEY,
        module_url: str = MODULE_URL,
        css_url: str | None = CSS_URL,
    ) -> "MaskEditor":
        """Build the editor inside ``container`` (an element or a CSS selector).

        ``image``: bytes (PNG/JPEG/WebP/GIF), or a JS Blob/File/ImageBitmap/URL.
        ``settings``: overrides of the stored tool settings (tool, size,
        feather, opacity, extendBy). ``storage_key=None`` disables persistence.
        """
        ns = await load_module(module_url, css_url)
        js = _js()
        if isinstance(container, str):
            el = js.document.querySelector(container)
            if _is_undefined(el):
                raise LookupError(f"no element matches {container!r}")
            container = el
        opts = {"settings": _js_object(settings or {}), "storageKey": storage_key if storage_key else ""}
        ed = cls(await ns.createMaskEditor(container, _js_object(opts)))
        if image is not None:
            await ed.load_image(image)
        return ed

    # -- images in and out ---------------------------------------------------
    async def load_image(self, image: Any) -> None:
        """Show a new image (clears the mask and the history)."""
        await self.js.loadImage(to_blob(image))

    async def load_mask(self, mask: Any, mode: str = "auto") -> str:
        """Use an uploaded mask: 'alpha' (API convention, transparent = change),
        'luminance' (white = change) or 'auto'. Returns the mode used."""
        result = await self.js.loadMask(to_blob(mask), _js_object({"mode": mode}))
        return str(result.mode)

    async def export_mask(self, with_image: bool = False) -> bytes:
        """The mask as PNG bytes (RGBA, alpha 0 = area to change). With
        ``with_image`` the image's own pixels are kept, with the area cut out."""
        blob = await self.js.exportMask(_js_object({"withImage": bool(with_image)}))
        return await blob_bytes(blob)

    async def export_mask_for(self, imaging: Any) -> Any:
        """The mask for ``prepare``: with the canvas imaging backend, the editor's pixels
        handed over as a picture (no 12 MP PNG written only to be decoded again); with any
        other backend, PNG bytes (``export_mask``)."""
        from imagesynth.imaging.canvas import CanvasImaging, CanvasPicture

        if isinstance(imaging, CanvasImaging):
            bitmap = self.js.exportMaskBitmap()
            if bitmap is not None and not _is_undefined(bitmap):
                # the bitmap is ours alone: the picture takes it without a copy (and closes it)
                return CanvasPicture(bitmap, int(bitmap.width), int(bitmap.height), is_canvas=False)
        return await self.export_mask()

    def extended(self) -> bool:
        """Has the canvas been grown (outpainting) beyond the loaded image?"""
        return bool(self.js.getState().extended)

    async def export_image(self) -> bytes:
        """The (possibly extended) image as PNG bytes; extensions are transparent."""
        return await blob_bytes(await self.js.exportImage())

    # -- operations -----------------------------------------------------------
    def extend(self, left: int = 0, top: int = 0, right: int = 0, bottom: int = 0) -> None:
        """Outpainting: grow the canvas; the new area is transparent and masked."""
        self.js.extend(_js_object({"left": left, "top": top, "right": right, "bottom": bottom}))

    def undo(self) -> bool:
        return bool(self.js.undo())

    def redo(self) -> bool:
        return bool(self.js.redo())

    def clear(self) -> None:
        self.js.clear()

    def fill(self) -> None:
        self.js.fill()

    def invert(self) -> None:
        self.js.invert()

    def fit(self) -> None:
        self.js.fit()

    def set_tool(self, tool: str) -> None:
        self.js.setTool(tool)

    def set_brush_size(self, px: int) -> None:
        self.js.setBrushSize(px)

    def set_feather(self, amount: float) -> None:
        self.js.setFeather(amount)

    def set_overlay_opacity(self, opacity: float) -> None:
        self.js.setOverlayOpacity(opacity)

    # -- state ------------------------------------------------------------------
    @property
    def state(self) -> dict:
        """width, height, imageRect, extended, canUndo, canRedo, zoom, settings, ..."""
        return _to_py(self.js.getState())

    @property
    def settings(self) -> dict:
        return _to_py(self.js.getSettings())

    def on_change(self, callback: Callable[[dict], Any]) -> Callable[[], None]:
        """Call ``callback(state)`` after every change of mask or image (a
        finished stroke, undo, clear, upload, extend, ...). Returns a function
        that unsubscribes. ``state['reason']`` says what changed."""
        from pyodide.ffi import create_proxy  # noqa: PLC0415

        proxy = create_proxy(lambda detail: callback(_to_py(detail)))
        js_unsub = self.js.onChange(proxy)
        done = False

        def unsubscribe() -> None:
            nonlocal done
            if done:
                return
            done = True
            js_unsub()
            proxy.destroy()

        self._unsubscribers.append(unsubscribe)
        return unsubscribe

    def destroy(self) -> None:
        """Remove the editor from the page and release the callbacks."""
        for unsub in self._unsubscribers:
            unsub()
        self._unsubscribers.clear()
        self.js.destroy()


def _to_py(obj: Any) -> Any:
    from pyodide.ffi import JsProxy  # noqa: PLC0415

    if isinstance(obj, JsProxy):
        return obj.to_py() if hasattr(obj, "to_py") else obj
    return obj


async def create_editor(container: Any, image: Any = None, **kwargs: Any) -> MaskEditor:
    """Shorthand for ``await MaskEditor.create(container, image, **kwargs)``."""
    return await MaskEditor.create(container, image, **kwargs)
