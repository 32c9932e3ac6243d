"""Bytecode for PyScript's own Python package, which PyScript writes into the page as source.

Why: before main.py runs, PyScript writes its ``pyscript`` package (14 modules, ~30 KB,
carried as strings in its core chunk) into the page's filesystem and imports it, which
compiled every module: ~60 ms of a cold start (measured in the page: that step took 114 ms
cold and 28 warm with sources, 54 and 19 with bytecode). The build takes the same strings
out of the chunk it serves, has the served Pyodide compile them, and writes
``py/pyscript-bytecode.json``; ``static/start-pyodide.js`` puts the pycs in
``pyscript/__pycache__`` before it hands Pyodide to PyScript.

The pycs are *checked*-hash ones (PEP 552): Python compares each with the source PyScript
actually wrote and compiles that source if they differ. So a wrong extraction (a new PyScript
that carries its package differently) costs the compile it always cost, never different code;
app/boot.py's ``data-boot`` counts the modules that used their pyc, and a browser test wants all.

The file is always written (``{"files": {}}`` when there is nothing to give: no Node.js, or
no package found in the chunk), so the page never asks for a file that is not there.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .bytecode import Log, _find_node, _run_in_pyodide
from .preloads import chunk_names

OUT = "py/pyscript-bytecode.json"

# Where the chunk hands its package to the code that writes it: an object literal whose
# first key is the package and whose first file is its __init__.py.
_PACKAGE_START = '{pyscript:{"__init__.py":'

_COMPILE_PY = r"""
import base64
import importlib._bootstrap_external as _be
import importlib.util
import json
import sys

files = {}
for path, source in json.loads(SOURCES).items():  # "pyscript/x.py": its text
    data = source.encode("utf-8")
    code = compile(data, path, "exec", dont_inherit=True)
    pyc = _be._code_to_hash_pyc(code, importlib.util.source_hash(data), checked=True)
    folder, _, name = path.rpartition("/")
    cached = f"{folder}/__pycache__/{name[:-3]}.{sys.implementation.cache_tag}.pyc"
    files[cached] = base64.b64encode(bytes(pyc)).decode("ascii")
RESULT = json.dumps({"files": files})
"""


def _object_literal(text: str, start: int) -> str:
    """The JavaScript object literal that opens at ``start``, up to its closing brace.

    Hand-written (no JavaScript parser here): it only has to skip string literals, whose
    braces do not count; what it returns is checked by ``_to_json`` and, in the page, by
    the pycs' source hashes."""
    depth, i, quote = 0, start, ""
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
        i += 1
    raise ValueError("the package's object literal does not close")


def _to_json(literal: str) -> dict:
    """The literal as data: its bare keys (``pyscript:``) quoted, everything else must
    already be JSON (the minifier writes double-quoted strings with JSON escapes)."""
    out, i, n = [], 0, len(literal)
    while i < n:
        c = literal[i]
        if c == '"':
            j = i + 1
            while literal[j] != '"':
                j += 2 if literal[j] == "\\" else 1
            out.append(literal[i:j + 1])
            i = j + 1
        elif c.isalpha() or c in "_$":
            j = i
            while j < n and (literal[j].isalnum() or literal[j] in "_$"):
                j += 1
            out.append(json.dumps(literal[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return json.loads("".join(out))


def package_sources(pyscript_dir: Path) -> dict[str, str]:
    """PyScript's Python package as its chunk carries it: {"pyscript/x.py": source}; {} if
    the chunk does not carry it the way PyScript 0.7 does."""
    chunks = chunk_names(pyscript_dir)
    if not chunks:
        return {}
    text = (pyscript_dir / chunks[0]).read_text(encoding="utf-8")
    at = text.find(_PACKAGE_START)
    if at < 0 or text.find(_PACKAGE_START, at + 1) >= 0:
        return {}
    try:
        tree = _to_json(_object_literal(text, at))
    except (ValueError, IndexError):
        return {}
    sources: dict[str, str] = {}

    def walk(prefix: str, node: dict) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(f"{prefix}{key}/", value)
            elif isinstance(value, str) and key.endswith(".py"):
                sources[f"{prefix}{key}"] = value

    walk("", tree)
    return sources


def write_pyscript_bytecode(site: Path, pyodide_dir: Path, pyodide_version: str, cache: Path, log: Log,
                            *, node: str | None = None, timeout: float = 180) -> int:
    """Write ``site/py/pyscript-bytecode.json``; returns how many modules it holds (0: none)."""
    out = site / OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    sources = package_sources(site / "pyscript")
    result = {"files": {}}
    if not sources:
        log("pyscript bytecode: PyScript's Python package not found in its chunk; "
            "the page compiles it at every start")
    else:
        key = hashlib.sha256(f"{pyodide_version}\0{_COMPILE_PY}\0".encode()
                             + json.dumps(sources, sort_keys=True).encode()).hexdigest()[:32]
        hit = cache / "bytecode" / f"pyscript-{key}.json"
        if hit.is_file():
            result = json.loads(hit.read_text())
            log(f"pyscript bytecode: {len(result['files'])} modules, from the build cache")
        elif not (node := _find_node(node)):
            log("pyscript bytecode: no Node.js here, so PyScript's package stays sources only "
                "(the page compiles it at every start); install Node.js and rebuild")
        else:
            spec = {"inputs": [], "outputs": [], "globals": {"SOURCES": sources}}
            got, why = _run_in_pyodide(_COMPILE_PY, spec, pyodide_dir, node, timeout)
            if got is None:
                log(f"pyscript bytecode: {why}; PyScript's package stays sources only")
            else:
                result = got
                hit.parent.mkdir(parents=True, exist_ok=True)
                hit.write_text(json.dumps(result))
                log(f"pyscript bytecode: {len(result['files'])} modules compiled by Pyodide {pyodide_version}")
    out.write_text(json.dumps(result, sort_keys=True))
    return len(result["files"])
