"""The first screen: where images come from, test the connection, keep or forget the key."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from imagesynth import errors as E
from imagesynth.http import HttpRequest
from imagesynth.models import image_models

from . import dom, settings
from .dom import el, h, on, set_text
from .messages import describe
from .settings import Connection
from .state import app

#: called with the model ids after a connection is put in use (set by main)
on_models = lambda ids: None  # noqa: E731


# ------------------------------------------------------------------------------ status pill
def set_status(text: str, state: str = "none") -> None:
    pill = el("conn-status")
    set_text(pill, text)
    pill.setAttribute("data-state", state)


def show_panel(visible: bool = True, *, focus: bool = False) -> None:
    panel = el("connect")
    dom.show(panel, visible)
    el("open-connect").setAttribute("aria-expanded", "true" if visible else "false")
    if visible and focus:
        checked = dom.q(panel, 'input[name="provider"]:checked')
        dom.focus(checked or panel)


# ---------------------------------------------------------------------------------- sandbox
async def detect_sandbox() -> str:
    """The absolute URL of this server's sandbox endpoint, or "" (plain static hosting)."""
    import js

    url = str(js.URL.new("v1", js.location.href).href).rstrip("/")
    req = HttpRequest("GET", f"{url}/models",
                      headers={"Authorization": f"Bearer {settings.SANDBOX_KEY}", "Accept": "application/json"},
                      timeout=8.0)
    try:
        resp = await app.transport.send(req)
    except E.ImageSynthError:
        return ""
    return url if resp.status == 200 else ""


#: the running detection (started by start()); "Test"/"Use" with the sandbox wait for it
_detection: asyncio.Future | None = None


async def _sandbox_checked() -> None:
    """Wait until the sandbox detection has finished (the card says "checking…" until then)."""
    if _detection is not None and not _detection.done():
        await asyncio.shield(_detection)


def _show_detection(url: str) -> None:
    """The Sandbox card is on the page from the start, preselected; settle it."""
    label = el("provider-sandbox-label")
    label.removeAttribute("data-checking")
    if not url:
        if el("provider-sandbox").checked:
            el("provider-openai").checked = True
        dom.show(label, False)


# ------------------------------------------------------------------------------------ form
def _kind() -> str:
    checked = dom.q(el("connect"), 'input[name="provider"]:checked')
    return str(checked.value) if checked else "openai"


def _storage_choice() -> str:
    return "device" if el("storage-device").checked else "tab"


def read_form() -> Connection:
    kind = _kind()
    return Connection(
        kind=kind,
        base_url=str(el("base-url").value).strip(),
        deployment=str(el("deployment").value).strip(),
        api_version=str(el("api-version").value).strip() or settings.AZURE_API_VERSION,
        organization=str(el("organization").value).strip(),
        storage=_storage_choice(),
        api_key=str(el("api-key").value).strip(),
    )


def fill_form(conn: Connection) -> None:
    radio = el(f"provider-{conn.kind}")
    if radio.closest("label").hidden:  # sandbox saved, but this server has none
        radio = el("provider-openai")
    radio.checked = True
    el("base-url").value = conn.base_url if conn.kind in ("azure", "compatible") else ""
    el("deployment").value = conn.deployment
    el("api-version").value = conn.api_version or settings.AZURE_API_VERSION
    el("organization").value = conn.organization
    el("api-key").value = conn.api_key
    el("storage-device" if conn.storage == "device" else "storage-tab").checked = True
    update_fields()


def update_fields(evt=None) -> None:
    kind = _kind()
    for node in _nodes('[data-kinds]'):
        kinds = str(node.getAttribute("data-kinds")).split()
        dom.show(node, kind in kinds)
    label = el("base-url-label")
    hint = el("base-url-hint")
    url = el("base-url")
    if kind == "azure":
        set_text(label, "Endpoint")
        set_text(hint, "Your resource's address, e.g. https://NAME.openai.azure.com")
        url.setAttribute("placeholder", "https://NAME.openai.azure.com")
    else:
        set_text(label, "Base URL")
        set_text(hint, "The address that ends in /v1. The server must allow requests from web pages (CORS).")
        url.setAttribute("placeholder", "https://example.com/v1")
    el("forget-key").disabled = not app.ready
    if evt is not None:
        set_text(el("connect-result"), "")


def _nodes(selector: str):
    found = el("connect").querySelectorAll(selector)
    return [found.item(i) for i in range(found.length)]


def _result(*children) -> None:
    box = el("connect-result")
    dom.clear(box)
    for c in children:
        box.appendChild(c)


def _problems_node(problems: list[str]):
    from .messages import Message
    from .views import alert_node

    return alert_node(Message("Almost there", " ".join(problems), "warn"), dismiss=False)


def _models_node(ids: list[str], conn: Connection):
    known = image_models(ids)
    if not ids:
        text = ("Connected. The endpoint lists no models, so every model imagesynth knows is offered; "
                "choose the one your endpoint serves." if conn.kind != "azure" else
                "Connected. Choose the model your deployment runs.")
        return h("div", h("p", text=text))
    lead = h("p", text=(f"Connected. {len(ids)} model{'s' if len(ids) != 1 else ''} offered; "
                        f"{len(known)} of them make images with imagesynth."
                        if known else
                        f"Connected, but none of the {len(ids)} models offered is an image model "
                        "imagesynth knows. Every known model will be offered."))
    lst = h("ul", cls="models", attrs={"aria-label": "Models the endpoint offers"})
    for mid in sorted(ids, key=lambda m: (m not in known, m)):
        lst.appendChild(h("li", text=mid, cls="known" if mid in known else None))
    return h("div", lead, lst)


async def _list(conn: Connection) -> list[str]:
    from imagesynth.orchestrate import list_models  # loaded after boot (generate.py says why)

    ep = conn.endpoint(app.sandbox_url)
    try:
        return await list_models(ep, app.transport)
    except (E.AuthenticationError, E.PermissionDeniedError, E.ConnectionFailed, E.TimeoutError_,
            E.QuotaExceededError):
        raise
    except E.ImageSynthError:
        if conn.kind == "azure":  # Azure's list is only a hint
            return []
        raise


async def _form_connection():
    """The connection the form describes, or None after showing what is missing."""
    if _kind() == "sandbox":
        await _sandbox_checked()
    conn = read_form()
    problems = conn.problems()
    if problems:
        _result(_problems_node(problems))
        return None
    return conn


async def test_connection(evt=None) -> None:
    conn = await _form_connection()
    if conn is None:
        return
    btn = el("test-connection")
    btn.disabled = True
    set_text(btn, "Testing…")
    _result(h("p", text=f"Asking {conn.host()} for its models…", cls="muted"))
    try:
        ids = await _list(conn)
    except Exception as exc:
        from .views import alert_node

        _result(alert_node(describe(exc, hints=False), dismiss=False))
        return
    finally:
        btn.disabled = False
        set_text(btn, "Test connection")
    _result(_models_node(ids, conn))


async def use_connection(evt=None) -> None:
    conn = await _form_connection()
    if conn is None:
        return
    btn = el("use-connection")
    btn.disabled = True
    _result(h("p", text=f"Connecting to {conn.host()}…", cls="muted"))
    try:
        ok = await activate(conn, save=True)
    finally:
        btn.disabled = False
    if ok:
        dom.focus(el("prompt"))


_activating: asyncio.Future | None = None  # the connection being put in use, if any
_restoring: asyncio.Future | None = None  # start(): the sandbox detected, the saved connection restored


async def connecting() -> bool:
    """Wait for a connection that is being put in use; whether one is in use now. (Generate
    pressed right after "Use this connection", or while a saved one is restored, goes ahead
    with it instead of asking the user to choose one.)"""
    while True:  # the restore may start an activation, and the user another: wait until none is left
        pending = next((f for f in (_restoring, _activating) if f is not None and not f.done()), None)
        if pending is None:
            break
        try:
            await asyncio.shield(pending)
        except Exception:  # noqa: BLE001 - activate() has said what went wrong; boot() reports _restore()'s
            pass
    return bool(app.connected and app.connection is not None)


async def activate(conn: Connection, *, save: bool) -> bool:
    """Put a connection in use: list its models, save it, update the page. False on failure."""
    global _activating
    task = asyncio.ensure_future(_activate(conn, save=save))
    _activating = task
    try:
        return await task
    finally:
        if _activating is task:
            _activating = None


async def _activate(conn: Connection, *, save: bool) -> bool:
    set_status(f"{conn.label()}: connecting…", "busy")
    try:
        ids = await _list(conn)
    except Exception as exc:
        from .views import alert_node

        msg = describe(exc, hints=False)
        _result(alert_node(msg, dismiss=False))
        set_status(f"{conn.label()}: {msg.title.lower()}", "error")
        show_panel(True)
        app.connected = False
        return False
    if save:
        settings.save(conn)
    app.connection = conn
    app.connected = True
    app.models = ids
    label = conn.label() if conn.kind in ("sandbox", "openai") else f"{conn.label()} · {conn.host()}"
    set_status(label, "ok")
    _result(_models_node(ids, conn))
    on_models(ids)
    show_panel(False)
    from .views import clear_alert

    clear_alert("connection")
    return True


def forget_key(evt=None) -> None:
    conn = settings.forget_key(app.connection)
    el("api-key").value = ""
    from .messages import Message
    from .views import alert_node

    _result(alert_node(Message("Key forgotten", "The key was removed from this tab and from this device.",
                               "info"), dismiss=False))
    if conn is not None and conn.needs_key():
        app.connection = conn
        app.connected = False
        set_status(f"{conn.label()}: key needed", "error")


def toggle_key_visibility(evt=None) -> None:
    key = el("api-key")
    btn = el("show-key")
    showing = str(key.type) == "text"
    key.type = "password" if showing else "text"
    set_text(btn, "Show" if showing else "Hide")
    btn.setAttribute("aria-pressed", "false" if showing else "true")


def toggle_panel(evt=None) -> None:
    panel = el("connect")
    show_panel(bool(panel.hidden), focus=bool(panel.hidden))


def _adopt_first_run() -> None:
    """index.html's inline script in <head> showed the card by a class on <html> (no layout change
    before the first frame); from here its hidden attribute says whether it is shown."""
    root = dom.document.documentElement
    if root.classList.contains("first-run"):
        el("connect").hidden = False
        root.classList.remove("first-run")


def start() -> asyncio.Future:
    """Wire the panel now, and detect the sandbox and restore the saved connection in the
    background. Called when Generate starts to work, not after the rest of the boot: the
    panel's buttons are enabled then, and a returning user who typed while Python started and
    presses Ctrl+Enter at once must get the saved connection, not "choose a connection"
    (connecting() waits for the restore). The restore is awaited by boot() for its errors."""
    _adopt_first_run()
    for radio in _nodes('input[name="provider"]'):
        on(radio, "change", update_fields)
    on(el("test-connection"), "click", test_connection)
    on(el("use-connection"), "click", use_connection)
    on(el("forget-key"), "click", forget_key)
    on(el("show-key"), "click", toggle_key_visibility)
    on(el("open-connect"), "click", toggle_panel)

    global _restoring
    _restoring = asyncio.ensure_future(_restore())
    return _restoring


async def _restore() -> None:
    global _detection
    _detection = asyncio.ensure_future(detect_sandbox())
    saved = settings.load()
    checking = None
    if saved is not None and saved.kind != "sandbox" and not (saved.needs_key() and not saved.api_key):
        # an endpoint of its own does not depend on this site's sandbox: its models are asked
        # for beside the detection, not a round trip to this site later
        fill_form(saved)
        app.connection = saved
        checking = asyncio.ensure_future(activate(saved, save=False))
    app.sandbox_url = await _detection
    _show_detection(app.sandbox_url)
    if checking is not None:
        await checking
        return

    if saved is not None and saved.kind == "sandbox" and not app.sandbox_url:
        saved = None
    if saved is None:  # the Sandbox card is preselected in the page (unless the user chose another)
        update_fields()
        set_status("Not connected", "none")
        show_panel(True)
        return
    fill_form(saved)
    app.connection = saved
    if saved.needs_key() and not saved.api_key:
        set_status(f"{saved.label()}: key needed", "error")
        from .messages import Message
        from .views import alert_node

        _result(alert_node(Message("Paste your key again",
                                   "The key was kept for this tab only, so it is gone after a reload. "
                                   "Paste it again, or choose “Remember on this device”.", "warn"),
                           dismiss=False))
        show_panel(True)
        return
    await activate(saved, save=False)
