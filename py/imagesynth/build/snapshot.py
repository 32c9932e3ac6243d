"""What the page needs to start Python from a snapshot of its own on later visits.

Why: most of a warm start is Python's own boot inside ``loadPyodide()`` (the
interpreter's initialisation, Pyodide's Python half, the ~140 stdlib modules the
page imports), and its result is the same on every load. On a first visit,
once the page is idle, ``static/snapshot-save.js`` has a worker boot the same
Pyodide, import those modules and save Pyodide's memory snapshot in the
browser's Cache Storage; later visits hand it to ``loadPyodide`` and skip all
that (``static/snapshot-restore.js``; measured warm in headless Chromium, the
app's loads in turn in one browser context: 711 ms with it, 858 without).

A snapshot is only good for the very runtime it was made from: Pyodide checks
its own build id, but the stdlib zip is ours (its pycs), and the snapshot holds
zipimport's table of offsets into it. So the build names each runtime with a
key made from the files and the module list, and writes it where the page
reads it before anything else: a ``<meta>`` in ``index.html`` (where the marker
is). A snapshot saved under another key is never used, and is deleted once a
new one is saved.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

MARKER = "<!-- imagesynth build: runtime snapshot key -->"
META_NAME = "imagesynth-snapshot"
MANIFEST = "py/runtime-snapshot.json"
WORKER = "static/snapshot-worker.js"

# Everything the snapshot's memory depends on: Pyodide's code and the stdlib it reads.
RUNTIME_FILES = ("pyodide.asm.wasm", "pyodide.asm.mjs", "pyodide.mjs", "python_stdlib.zip")


def snapshot_key(pyodide_dir: Path, modules: list[str], worker: Path | None) -> str:
    """A name for the runtime a snapshot of it is good for: changes with any of its inputs."""
    h = hashlib.sha256(b"imagesynth runtime snapshot 1\0")
    for name in RUNTIME_FILES:
        path = pyodide_dir / name
        h.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"-") + b"\0")
    h.update(json.dumps(sorted(modules)).encode() + b"\0")
    h.update(worker.read_bytes() if worker is not None and worker.is_file() else b"-")
    return h.hexdigest()[:24]


def write_snapshot_files(site: Path, pyodide_dir: Path, modules: list[str]) -> str | None:
    """Write the manifest the worker reads and the page's key; the key, or None where the page
    has no marker (no index.html, or one without the feature) and so never uses a snapshot."""
    index = site / "index.html"
    if not index.is_file():
        return None
    html = index.read_text(encoding="utf-8")
    if MARKER not in html:
        return None
    key = snapshot_key(pyodide_dir, modules, site / WORKER)
    manifest = site / MANIFEST
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"key": key, "modules": sorted(modules)}, indent=1) + "\n", encoding="utf-8")
    index.write_text(html.replace(MARKER, f'<meta name="{META_NAME}" content="{key}">', 1), encoding="utf-8")
    return key
