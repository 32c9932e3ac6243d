"""Boot: runtime facts, imaging backend, transport, history, then the controls come alive.

Started by ``main.py``, the page's ``<script type="py">``: PyScript compiles that file
from source on every load, so it only puts the zips on ``sys.path`` and calls ``main()``
here, which comes with the rest of the app as bytecode from ``app.zip``.
"""

import asyncio
import json
import os
import sys

import js
from pyscript import document, window

import imagesynth
from app import connect, dom, generate, store, views
from app.messages import Message, describe
from app.state import app


def _report(exc: BaseException) -> None:
    """Any exception that escaped a handler: on the page, in words; details to the console."""
    try:
        import traceback

        window.console.warn("imagesynth: " + "".join(traceback.format_exception(exc)))
    except Exception:
        pass
    try:
        views.show_error(exc, key="unexpected")
    except Exception:
        pass


dom.report = _report


def _set_boot(text: str) -> None:
    try:
        dom.set_text(dom.el("boot-text"), text)
    except LookupError:
        pass


def _runtime_facts() -> dict:
    """What the build served (Pillow or not, versions for the About panel): runtime.json, which
    PyScript writes beside the zips before main.py runs ("files"), so reading it costs no await:
    waiting on a fetch here let the browser render a frame first, ~20 ms before the controls
    came alive on a cold load."""
    try:
        with open("runtime.json", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


async def _imaging(runtime: dict):
    """Pillow where the build served it, else the browser canvas."""
    if not runtime.get("pillow"):
        # not default_imaging(): its attempt at Pillow (importing imagesynth.imaging.pillow, then
        # a search of every sys.path entry for PIL) is start-up time spent finding nothing
        from imagesynth.imaging.canvas import CanvasImaging

        return CanvasImaging()
    _set_boot("Loading Pillow…")
    try:
        import pyodide_js

        await pyodide_js.loadPackage("pillow")
    except Exception as exc:
        window.console.warn(f"imagesynth: Pillow could not be loaded ({exc}); using the canvas")
    from imagesynth.imaging import default_imaging

    return default_imaging()


async def _history() -> None:
    try:
        records = await store.load_all()
    except Exception as exc:
        views.show_alert(Message("History unavailable",
                                 "This browser would not open the page's image store (private browsing or "
                                 "storage turned off?). New images are shown but may not be kept.", "warn"),
                         key="history")
        return
    from app import gallery

    gallery.render(records)  # thumbnails only; full images stay in the store until opened


def _zip_of(module) -> str:
    return str(getattr(module, "__file__", "")).rpartition(".zip/")[0] + ".zip"


def _loaded_from(zips: list[str]) -> list[str]:
    """The files loaded modules came from, inside these zips (zipimport's __file__ names the
    file it used: .pyc for the build's bytecode, .py for a source it compiled)."""
    prefixes = tuple(z + "/" for z in zips)
    return [f for mod in list(sys.modules.values())
            if (f := str(getattr(mod, "__file__", None) or "")).startswith(prefixes)]


def _pyscript_pycs() -> str:
    """How many of PyScript's own modules had a pyc made from the very source PyScript wrote
    (start-pyodide.js puts the build's there; checked-hash pycs, so Python used exactly those),
    of how many it imported from files."""
    import importlib.util

    mods = [m for name, m in list(sys.modules.items()) if name.partition(".")[0] == "pyscript"
            and str(getattr(m, "__file__", None) or "").endswith(".py")]
    used = 0
    for mod in mods:
        try:
            with open(mod.__cached__, "rb") as f:
                head = f.read(16)
            with open(mod.__file__, "rb") as f:
                used += head[4:8] == b"\x03\x00\x00\x00" and head[8:16] == importlib.util.source_hash(f.read())
        except (OSError, TypeError):
            pass
    return f"pyscript-pyc={used}/{len(mods)}"


def _boot_compiles() -> str:
    """How many modules were compiled on the way: the stdlib's (whose zip holds os), and the
    core's and the app's, with how many came from their zips at all. Any compiled is start-up
    time spent compiling."""
    stdlib = _zip_of(os)
    ours = _loaded_from([_zip_of(imagesynth), _zip_of(sys.modules["app"])])
    return (f"stdlib-compiled={sum(f.endswith('.py') for f in _loaded_from([stdlib]))} "
            f"app-zipped={len(ours)} app-compiled={sum(f.endswith('.py') for f in ours)}")


async def boot() -> None:
    t0 = js.performance.now()
    from imagesynth.transports.browser import BrowserTransport

    app.transport = BrowserTransport()
    app.runtime = _runtime_facts()
    app.imaging = await _imaging(app.runtime)
    from app import gallery, history

    history.hold_page_lock()  # lets a later page tell this page's runs from a dead page's
    gallery.wire()
    connect.on_models = generate.set_models
    generate.set_models(None)
    generate.start()
    app.ready = True
    for node in (dom.el("test-connection"), dom.el("use-connection"), dom.el("forget-key")):
        node.disabled = False
    document.body.classList.remove("booting")
    document.body.setAttribute("data-ready", "1")
    restoring = connect.start()  # the saved connection, restored beside the rest (connect.start says why)
    # when Python's own code started and how long the app's boot took (ms since navigation),
    # and how many modules were compiled from source on the way (the build gives the stdlib's
    # start-up ones and all of ours bytecode: a number above 0 is start-up time spent compiling);
    # written into data-boot once the rest is wired, with PyScript's pycs (which reads files)
    boot_line = f"python-start={t0:.0f} ready={js.performance.now():.0f} {_boot_compiles()}"
    # Generate works from here. What the first click does not need is wired after the page
    # has had a turn to show that (tens of ms): the saved images, the task switch and the
    # reference image, share links and dropped PNGs, runs a closed page left behind.
    await asyncio.sleep(0)
    views.wire_lightbox()
    views.wire_about()
    views.render_about()
    await _history()
    try:
        from app import reference

        reference.start()
    except Exception as exc:  # images in (variations, edit) failing must not stop text to image
        _report(exc)
    try:  # share links, dropped PNGs, runs a closed page left behind
        from app import sharing

        sharing.wire()
        sharing.apply_fragment()
        dom.run_task(history.check_interrupted(gallery.records))
        dom.run_task(gallery.backfill_thumbs())
    except Exception as exc:
        _report(exc)
    try:  # runs import it on first use (generate.py): loaded now, so that use costs nothing
        import imagesynth.orchestrate  # noqa: F401
    except Exception as exc:
        _report(exc)

    document.body.setAttribute("data-boot", f"{boot_line} {_pyscript_pycs()}")
    document.body.setAttribute("data-wired", "1")  # everything above is in place (tests wait for it)
    await restoring
    document.body.setAttribute("data-connected", "1" if app.connected else "0")


async def main() -> None:
    try:
        await boot()
    except Exception as exc:
        _report(exc)
        msg = describe(exc)
        _set_boot(f"Python started, but the app could not: {msg.text}")

