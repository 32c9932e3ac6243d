"""The page's <script type="py" src>: puts the core and the app on sys.path, then boots the app.

Short on purpose: PyScript compiles this file from source on every load, while
everything it starts (``app.boot``) comes with bytecode from ``app.zip``.
"""

import os
import sys

from pyscript import document, window

# The core and the app's package are imported straight from their zips, which pyscript.json's
# "files" writes into the working directory (zipimport: each module's pyc is beside its source
# in the zip, build/bytecode.py); nothing is unpacked first.
PACKAGE_ZIPS = ("imagesynth.zip", "app.zip")
sys.path[:0] = [os.path.abspath(name) for name in PACKAGE_ZIPS if os.path.isfile(name)]


def _early_failure(exc: BaseException) -> None:
    """Before the app's modules are importable: say so in the boot line, never a traceback."""
    window.console.warn(f"imagesynth: the app could not start: {type(exc).__name__}: {exc}")
    node = document.getElementById("boot-text")
    if node:
        node.textContent = ("The app could not start in this browser. Reload the page; if it happens "
                            "again, the site may be incomplete (rebuild it with “imagesynth build”).")


try:
    from app.boot import main
except Exception as _exc:  # noqa: BLE001
    _early_failure(_exc)
else:
    await main()  # noqa: F704  (top-level await: PyScript runs this module asynchronously)
