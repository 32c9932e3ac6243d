"""The PyScript chunks the page should start downloading from <head>.

PyScript's ``core.js`` is a two-line re-export of a chunk with a content hash in
its name (``core-C9KDLldu.js``), and that chunk imports the ``error`` plugin even
when the config turns plugins off. The browser finds each only after the file
before it has arrived and been parsed: two round trips before Pyodide starts.
``index.html`` cannot name them (the hash changes with every PyScript release),
so the build reads the names from the files it serves and writes the
``<link rel="modulepreload">`` lines where index.html has the marker.
"""

from __future__ import annotations

import re
from pathlib import Path

MARKER = "<!-- imagesynth build: PyScript chunk preloads -->"

_REEXPORT = re.compile(r'from\s*"\./(core-[\w-]+\.js)"')
_ERROR_PLUGIN = re.compile(r'error:\(\)=>import\("\./(error-[\w-]+\.js)"\)')


def chunk_names(pyscript_dir: Path) -> list[str]:
    """Hashed file names, relative to pyscript/, in the order the page needs them."""
    core = (pyscript_dir / "core.js").read_text(encoding="utf-8")
    m = _REEXPORT.search(core)
    if not m or not (pyscript_dir / m.group(1)).is_file():
        return []
    names = [m.group(1)]
    chunk = (pyscript_dir / m.group(1)).read_text(encoding="utf-8")
    e = _ERROR_PLUGIN.search(chunk)
    if e and (pyscript_dir / e.group(1)).is_file():
        names.append(e.group(1))
    return names


def write_preloads(index_html: Path, pyscript_dir: Path) -> list[str]:
    """Replace the marker with modulepreload links; returns the names written ([] = left as is)."""
    html = index_html.read_text(encoding="utf-8")
    if MARKER not in html:
        return []
    names = chunk_names(pyscript_dir)
    if not names:
        return []
    links = "\n".join(f'<link rel="modulepreload" href="pyscript/{n}">' for n in names)
    index_html.write_text(html.replace(MARKER, links, 1), encoding="utf-8")
    return names
