"""Bytecode for the page's modules, compiled by the Pyodide the site serves.

Why: compiling the core's and the app's sources was most of the page's Python
start-up (measured in the page, warm cache: imports 84 ms with sources, 33 ms
with bytecode; the whole boot 150 → 60 ms). A ``.pyc`` is specific to one
Python version, and the build runs under whatever CPython the machine has, so
the build asks the page's own interpreter: Node.js runs the served
``pyodide.mjs``, which compiles every module of the zip and adds ``<name>.pyc``
beside ``<name>.py``: the page imports straight from the zips (zipimport, which
looks there, not in ``__pycache__``) instead of having PyScript unpack them into
the virtual filesystem first (measured: unpacking cost ~10 ms warm, ~50 ms cold).
Each pyc is read back through zipimport here, as the page will read it.

The pycs are "unchecked hash" ones (PEP 552): the source and its pyc always
come from the same build, so there is nothing to check, and nothing depends on
the zip entries' dates. The sources stay in the zip: tracebacks keep their
lines, and a pyc the interpreter refused would only cost the compile again
(app/boot.py's ``data-boot`` counts such modules; a browser test wants 0).

The same goes for the standard library: Pyodide's npm ``python_stdlib.zip``
holds sources only, so every page load compiled the ~140 stdlib modules that
Python's own start, PyScript and the app import (measured, warm cache: Python's
boot 970 ms with sources, 170 ms with bytecode; html.entities alone 21 ms).
``stdlib_bytecode`` replaces those modules' sources in the served zip with pycs
(zipimport looks for ``name.pyc`` beside where ``name.py`` would be). Only the
start-up set, and without their sources: pycs for all 560 modules beside the
sources would add 4.5 MB to the first load, this adds 0.6 MB. The cost: a
traceback through one of those stdlib modules shows its file and line but not
the line's text.

Without Node.js (or if it fails) the zips keep sources only and the build says
so: the page works, it starts later. Results are cached by the inputs' hashes
and the Pyodide version, so a rebuild costs nothing.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

Log = Callable[[str], None]

# The start of both scripts below, which run inside Pyodide: a module's pyc goes where
# zipimport looks for it, and each one is read back through zipimport as the page will read it
# (one it would pass over, or refuse, fails the build step and the zip is left as it was).
_PYC_HELPERS = r"""
import importlib._bootstrap_external as _be
import importlib.util
import zipfile
import zipimport


def add_pyc(out, info, code, source):  # an unchecked-hash pyc beside info's module: name.pyc
    pyc = _be._code_to_hash_pyc(code, importlib.util.source_hash(source), checked=False)
    entry = zipfile.ZipInfo(info.filename[:-3] + ".pyc", info.date_time)
    entry.external_attr = info.external_attr
    entry.compress_type = zipfile.ZIP_DEFLATED
    out.writestr(entry, bytes(pyc))


def check_pyc_used(zip_path, name):  # name: the module's .py path inside the zip
    parts = name[:-3].split("/")
    if parts[-1] == "__init__":
        parts.pop()
    used = zipimport.zipimporter("/".join([zip_path, *parts[:-1]])).get_filename(parts[-1])
    if not used.endswith(".pyc"):
        raise RuntimeError(f"zipimport passed over the pyc for {name} (it would use {used})")
"""

# For each (in, out) zip: copy every entry and add a pyc beside each module. main.py is left
# out: PyScript runs it from its own fetch, as source (top-level await).
_PY = _PYC_HELPERS + r"""
import json
import sys

done, skipped = 0, []
for src_path, out_path in json.loads(PAIRS):
    compiled = []
    with zipfile.ZipFile(src_path) as src, zipfile.ZipFile(out_path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            out.writestr(info, data)
            name = info.filename
            if not name.endswith(".py") or name.rsplit("/", 1)[-1] == "main.py":
                continue
            try:
                code = compile(data, name, "exec", dont_inherit=True)
            except SyntaxError as exc:
                skipped.append(f"{name}: {exc.msg}")
                continue
            add_pyc(out, info, code, data)
            compiled.append(name)
            done += 1
    for name in compiled:
        check_pyc_used(out_path, name)
RESULT = json.dumps({"compiled": done, "skipped": skipped, "tag": sys.implementation.cache_tag})
"""

_JS = r"""
const [indexPath, work, specJson] = process.argv.slice(1);
const fs = await import("node:fs");
const { pathToFileURL } = await import("node:url");
const { loadPyodide } = await import(pathToFileURL(indexPath + "pyodide.mjs").href);
const py = await loadPyodide({ indexURL: indexPath, stdout: () => {}, stderr: () => {} });
const spec = JSON.parse(specJson);  // {inputs: [[host, inside]], outputs: [[inside, host]], globals: {}}
py.FS.mkdirTree("/work");
for (const [host, inside] of spec.inputs) py.FS.writeFile(inside, new Uint8Array(fs.readFileSync(host)));
for (const [name, value] of Object.entries(spec.globals)) py.globals.set(name, JSON.stringify(value));
py.runPython(fs.readFileSync(`${work}/compile.py`, "utf8"));
for (const [inside, host] of spec.outputs) fs.writeFileSync(host, py.FS.readFile(inside));
process.stdout.write(py.globals.get("RESULT"));
"""


def _find_node(node: str | None) -> str | None:
    return node or shutil.which("node") or shutil.which("nodejs")


def _run_in_pyodide(script: str, spec: dict, pyodide_dir: Path, node: str, timeout: float) -> tuple[dict | None, str]:
    """Run a script in the served Pyodide under Node.js: (its RESULT, "") or (None, why not)."""
    with tempfile.TemporaryDirectory(prefix="imagesynth-pyc-") as work:
        (Path(work) / "compile.py").write_text(script, encoding="utf-8")
        index_path = str(pyodide_dir.resolve()) + "/"
        try:
            proc = subprocess.run([node, "--input-type=module", "-e", _JS, index_path, work, json.dumps(spec)],
                                  capture_output=True, text=True, timeout=timeout)
            result = json.loads(proc.stdout) if proc.returncode == 0 else None
        except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
            return None, f"Node.js could not run Pyodide ({exc})"
    if result is None:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        why = next((ln for ln in lines if "Error" in ln), lines[-1] if lines else "no output")
        return None, f"Pyodide under Node.js failed ({why.strip()[:200]})"
    return result, ""


def _key(zip_path: Path, pyodide_version: str) -> str:
    h = hashlib.sha256(pyodide_version.encode() + b"\0" + _PY.encode() + b"\0")
    h.update(zip_path.read_bytes())
    return h.hexdigest()[:32]


def add_bytecode(zips: list[Path], pyodide_dir: Path, pyodide_version: str, cache: Path, log: Log,
                 *, node: str | None = None, timeout: float = 180) -> bool:
    """Add pycs to each zip in place. True if every zip has them; False = sources only (logged)."""
    store = cache / "bytecode"
    store.mkdir(parents=True, exist_ok=True)
    todo = []
    for z in zips:
        hit = store / f"{_key(z, pyodide_version)}.zip"
        if hit.is_file():
            shutil.copyfile(hit, z)
        else:
            todo.append((z, hit))
    if not todo:
        log(f"bytecode: from the build cache ({store})")
        return True
    node = _find_node(node)
    if not node:
        log("bytecode: no Node.js here, so the zips carry sources only (the page compiles them at start, "
            "~100 ms slower); install Node.js and rebuild for bytecode")
        return False
    with tempfile.TemporaryDirectory(prefix="imagesynth-pyc-out-") as outs:
        spec = {"inputs": [[str(z), f"/work/in-{i}.zip"] for i, (z, _) in enumerate(todo)],
                "outputs": [[f"/work/out-{i}.zip", str(Path(outs) / f"{i}.zip")] for i in range(len(todo))],
                "globals": {"PAIRS": [[f"/work/in-{i}.zip", f"/work/out-{i}.zip"] for i in range(len(todo))]}}
        result, why = _run_in_pyodide(_PY, spec, pyodide_dir, node, timeout)
        if result is None:
            log(f"bytecode: {why}; the zips carry sources only")
            return False
        for i, (z, hit) in enumerate(todo):
            shutil.copyfile(Path(outs) / f"{i}.zip", hit)
            shutil.copyfile(Path(outs) / f"{i}.zip", z)
    for problem in result["skipped"]:
        log(f"bytecode: not compiled: {problem}")
    log(f"bytecode: {result['compiled']} modules compiled by Pyodide {pyodide_version} ({result['tag']})")
    return True


# Import what the page imports, then give every stdlib module that is now loaded from source
# a pyc instead of its source, in a copy of the stdlib zip.
_STDLIB_PY = _PYC_HELPERS + r"""
import importlib
import json
import sys

prefix = next(p for p in sys.path if p.endswith(".zip")) + "/"
for name in json.loads(NAMES):
    try:
        importlib.import_module(name)
    except BaseException:  # not in the stdlib, or not for this platform: nothing to compile
        pass
start = {}
for mod in list(sys.modules.values()):
    f = getattr(mod, "__file__", None) or ""
    if f.startswith(prefix) and f.endswith(".py"):
        start[f[len(prefix):]] = mod.__name__
with zipfile.ZipFile(json.loads(SRC)) as src, zipfile.ZipFile(json.loads(OUT), "w", zipfile.ZIP_DEFLATED) as out:
    for info in src.infolist():
        data = src.read(info)
        if info.filename not in start:
            out.writestr(info, data)
            continue
        add_pyc(out, info, compile(data, prefix + info.filename, "exec", dont_inherit=True), data)
# the stdlib keeps no source to fall back on: a pyc zipimport refused would break the page
for path in start:
    check_pyc_used(json.loads(OUT), path)
RESULT = json.dumps({"modules": sorted(start.values())})
"""

# `import a.b`, `from a.b import c` (c may be a submodule) in Python sources; in PyScript's
# JS chunk, the same words inside the Python package it embeds as strings.
_IMPORT_WORDS = re.compile(r"(?:^|[\s;:\"'\\n])(?:from\s+([A-Za-z_][\w.]*)\s+import\s+([\w, ]+)"
                           r"|import\s+([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*))")
# Imported by name at run time, so no import statement shows them: zipfile decodes the
# names of the page's zips (no UTF-8 flag: plain ASCII) with cp437 when PyScript unpacks them.
_IMPLICIT = ("encodings.cp437",)


def imported_names(sources: list[Path]) -> list[str]:
    """Every absolute module name the page's Python may import: .py files, zips of them, .js chunks."""
    names: set[str] = set()

    def scan_py(text: bytes, filename: str) -> None:
        try:
            tree = compile(text, filename, "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                           dont_inherit=True)
        except (SyntaxError, ValueError):
            return  # the build reports syntax errors itself
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{a.name}" for a in node.names if a.name != "*")

    for path in sources:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                for n in zf.namelist():
                    if n.endswith(".py"):
                        scan_py(zf.read(n), n)
        elif path.suffix == ".py":
            scan_py(path.read_bytes(), str(path))
        elif path.suffix in (".js", ".mjs"):
            for m in _IMPORT_WORDS.finditer(path.read_text(encoding="utf-8", errors="replace")):
                if m.group(1):
                    names.add(m.group(1))
                    names.update(f"{m.group(1)}.{w.strip()}" for w in m.group(2).split(",") if w.strip())
                else:
                    names.update(w.strip() for w in m.group(3).split(","))
    return sorted(names | set(_IMPLICIT))


def stdlib_bytecode(stdlib_zip: Path, sources: list[Path], pyodide_dir: Path, pyodide_version: str,
                    cache: Path, log: Log, *, node: str | None = None, timeout: float = 180) -> list[str]:
    """Swap the start-up modules' sources in ``stdlib_zip`` for pycs, in place; the modules
    swapped ([] = the zip is left as it was, logged)."""
    names = imported_names(sources)
    h = hashlib.sha256(pyodide_version.encode() + b"\0" + _STDLIB_PY.encode() + b"\0")
    h.update(json.dumps(names).encode() + b"\0")
    h.update(stdlib_zip.read_bytes())
    store = cache / "bytecode"
    store.mkdir(parents=True, exist_ok=True)
    hit, listed = store / f"stdlib-{h.hexdigest()[:32]}.zip", store / f"stdlib-{h.hexdigest()[:32]}.json"
    if hit.is_file() and listed.is_file():
        shutil.copyfile(hit, stdlib_zip)
        modules = json.loads(listed.read_text())
        log(f"stdlib bytecode: {len(modules)} start-up modules, from the build cache")
        return modules
    node = _find_node(node)
    if not node:
        log("stdlib bytecode: no Node.js here, so the stdlib stays sources only "
            "(the page compiles ~140 modules at every start); install Node.js and rebuild")
        return []
    with tempfile.TemporaryDirectory(prefix="imagesynth-pyc-out-") as outs:
        out = Path(outs) / "stdlib.zip"
        spec = {"inputs": [[str(stdlib_zip), "/work/stdlib.zip"]], "outputs": [["/work/out.zip", str(out)]],
                "globals": {"NAMES": names, "SRC": "/work/stdlib.zip", "OUT": "/work/out.zip"}}
        result, why = _run_in_pyodide(_STDLIB_PY, spec, pyodide_dir, node, timeout)
        if result is None:
            log(f"stdlib bytecode: {why}; the stdlib stays sources only")
            return []
        shutil.copyfile(out, hit)
        shutil.copyfile(out, stdlib_zip)
    listed.write_text(json.dumps(result["modules"]))
    log(f"stdlib bytecode: {len(result['modules'])} start-up modules compiled by Pyodide {pyodide_version}")
    return result["modules"]
