"""Small, safe DOM helpers.

Text reaches the page only through ``textContent`` and attributes set with
``setAttribute`` (never ``innerHTML``), so a prompt such as
``<script type="py">…</script>`` or ``<img src=x onerror=…>`` shows as text
and runs nothing.  Event handlers may be async: they run as tasks, and an
exception they raise is shown on the page (``report``), never only in the
console.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Callable

import js
from pyodide.ffi import create_proxy, to_js

try:  # Pyodide ≥ 0.28 maps JS null to ``jsnull`` (not None)
    from pyodide.ffi import jsnull as _jsnull
except ImportError:  # pragma: no cover
    _jsnull = None
from pyscript import document, window

_proxies: list[Any] = []  # listeners stay alive as long as the page
_tasks: set[asyncio.Task] = set()

#: set by main: shows an unexpected exception on the page
report: Callable[[BaseException], None] = lambda exc: window.console.warn(f"{type(exc).__name__}: {exc}")

_FORBIDDEN_ATTRS = ("innerhtml", "outerhtml", "srcdoc")


def nn(value):
    """JS null/undefined → None."""
    if value is None or value is _jsnull:
        return None
    return value


def q(node, selector: str):
    """``node.querySelector(selector)``, or None."""
    return nn(node.querySelector(selector))


def el(element_id: str):
    node = nn(document.getElementById(element_id))
    if node is None:
        raise LookupError(f"the page has no element #{element_id}")
    return node


def h(tag: str, *children: Any, cls: str | None = None, text: str | None = None,
      attrs: dict[str, Any] | None = None):
    """Create an element.  ``text`` and string children become text nodes."""
    node = document.createElement(tag)
    if cls:
        node.className = cls
    if attrs:
        for name, value in attrs.items():
            set_attr(node, name, value)
    if text is not None:
        node.textContent = str(text)
    for child in children:
        if child is None:
            continue
        if isinstance(child, str):
            node.appendChild(document.createTextNode(child))
        else:
            node.appendChild(child)
    return node


def set_attr(node, name: str, value: Any) -> None:
    low = name.lower()
    if low in _FORBIDDEN_ATTRS or low.startswith("on"):
        raise ValueError(f"refusing to set {name!r}")
    if value is None or value is False:
        node.removeAttribute(name)
    elif value is True:
        node.setAttribute(name, "")
    else:
        node.setAttribute(name, str(value))


def set_text(node, text: Any) -> None:
    node.textContent = "" if text is None else str(text)


def clear(node) -> None:
    while node.firstChild:
        node.removeChild(node.firstChild)


def show(node, visible: bool = True) -> None:
    node.hidden = not visible


def run_task(coro) -> asyncio.Task:
    """Run a coroutine as a task whose failure is shown on the page."""
    task = asyncio.ensure_future(coro)
    _tasks.add(task)

    def _done(t: asyncio.Task) -> None:
        _tasks.discard(t)
        if t.cancelled():
            return
        exc = t.exception()
        if exc is not None:
            report(exc)

    task.add_done_callback(_done)
    return task


def on(node, event: str, handler: Callable, *, prevent_default: bool = False) -> None:
    """addEventListener with a proxy kept alive; async handlers run as tasks."""
    is_async = inspect.iscoroutinefunction(handler)

    def listener(evt):
        if prevent_default:
            evt.preventDefault()
        try:
            if is_async:
                run_task(handler(evt))
            else:
                handler(evt)
        except Exception as exc:  # a view bug must not become a silent console line
            report(exc)

    proxy = create_proxy(listener)
    _proxies.append(proxy)
    node.addEventListener(event, proxy)


def js_object(d: dict) -> Any:
    return to_js(d, dict_converter=js.Object.fromEntries)


def to_uint8(data: bytes):
    arr = js.Uint8Array.new(len(data))
    arr.assign(data)
    return arr


def blob_from_bytes(data: bytes, mime: str):
    return js.Blob.new(to_js([to_uint8(data)]), js_object({"type": mime}))


def object_url(blob) -> str:
    return js.URL.createObjectURL(blob)


def focus(node) -> None:
    try:
        node.focus()
    except Exception:
        pass


def first_file(transfer):
    """The first file of a drop or paste's DataTransfer, or None.  Pastes often list it only
    under ``items``."""
    transfer = nn(transfer)
    if transfer is None:
        return None
    files = nn(transfer.files)
    if files is not None and files.length:
        return files.item(0)
    items = nn(transfer.items)
    if items is not None:
        for i in range(items.length):
            it = items[i]
            if str(it.kind) == "file":
                f = nn(it.getAsFile())
                if f is not None:
                    return f
    return None
