"""Bytecode for the page's modules, compiled by the Pyodide the site serves.

Why: compiling the core's and the app's sources was most of the page's Python
start-up (measured in the page, warm cache: imports 84 ms with sources, 33 ms
with bytecode; the whole boot 150 → 60 ms). A ``.pyc`` is specific to one
Python version, and the build runs under whatever CPython the machine has, so
the build asks the page's own interpreter: Node.js runs the served
``pyodide.mjs``, which compiles every module of the zip and adds
``__pycache__/<name>.cpython-3XX.pyc`` beside it.

The pycs are "unchecked hash" ones (PEP 552): PyScript unpacks the zip with
fresh modification times, which would make the usual timestamp-checked pycs
stale at once; the source and its pyc always come from the same build, so
there is nothing to check. The sources stay in the zip: tracebacks keep their
lines, and a pyc the interpreter refused would only cost the compile again.

Without Node.js (or if it fails) the zips keep sources only and the build says
so: the page works, it starts about 100 ms later. Results are cached by the
zip's hash and the Pyodide version, so a rebuild costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

Log = Callable[[str], None]

# Runs inside Pyodide: for each (in, out) zip, copy every entry and add a pyc per module.
# main.py is left out: PyScript runs it from its own fetch, as source (top-level await).
_PY = r"""
import importlib._bootstrap_external as _be
import importlib.util
import json
import zipfile

done, skipped = 0, []
for src_path, out_path in json.loads(PAIRS):
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
            pyc = _be._code_to_hash_pyc(code, importlib.util.source_hash(data), checked=False)
            entry = zipfile.ZipInfo(importlib.util.cache_from_source(name), info.date_time)
            entry.external_attr = info.external_attr
            entry.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(entry, bytes(pyc))
            done += 1
RESULT = json.dumps({"compiled": done, "skipped": skipped, "tag": importlib.util.cache_from_source("m.py")})
"""

_JS = r"""
const [indexPath, work, pairsJson] = process.argv.slice(1);
const fs = await import("node:fs");
const { pathToFileURL } = await import("node:url");
const { loadPyodide } = await import(pathToFileURL(indexPath + "pyodide.mjs").href);
const py = await loadPyodide({ indexURL: indexPath, stdout: () => {}, stderr: () => {} });
const pairs = JSON.parse(pairsJson);
py.FS.mkdirTree("/work");
const inside = pairs.map(([src, out], i) => {
  py.FS.writeFile(`/work/in-${i}.zip`, new Uint8Array(fs.readFileSync(src)));
  return [`/work/in-${i}.zip`, `/work/out-${i}.zip`];
});
py.globals.set("PAIRS", JSON.stringify(inside));
py.runPython(fs.readFileSync(`${work}/compile.py`, "utf8"));
pairs.forEach(([, out], i) => fs.writeFileSync(out, py.FS.readFile(`/work/out-${i}.zip`)));
process.stdout.write(py.globals.get("RESULT"));
"""


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
    node = node or shutil.which("node") or shutil.which("nodejs")
    if not node:
        log("bytecode: no Node.js here, so the zips carry sources only (the page compiles them at start, "
            "~100 ms slower); install Node.js and rebuild for bytecode")
        return False
    with tempfile.TemporaryDirectory(prefix="imagesynth-pyc-") as work:
        (Path(work) / "compile.py").write_text(_PY, encoding="utf-8")
        pairs = [[str(z), str(Path(work) / f"out-{i}.zip")] for i, (z, _) in enumerate(todo)]
        index_path = str(pyodide_dir.resolve()) + "/"
        try:
            proc = subprocess.run([node, "--input-type=module", "-e", _JS, index_path, work, json.dumps(pairs)],
                                  capture_output=True, text=True, timeout=timeout)
            result = json.loads(proc.stdout) if proc.returncode == 0 else None
        except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
            log(f"bytecode: Node.js could not run Pyodide ({exc}); the zips carry sources only")
            return False
        if result is None:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            why = next((ln for ln in lines if "Error" in ln), lines[-1] if lines else "no output")
            log(f"bytecode: Pyodide under Node.js failed ({why.strip()[:200]}); the zips carry sources only")
            return False
        for (z, hit), (_, out) in zip(todo, pairs):
            shutil.copyfile(out, hit)
            shutil.copyfile(out, z)
    for problem in result["skipped"]:
        log(f"bytecode: not compiled: {problem}")
    log(f"bytecode: {result['compiled']} modules compiled by Pyodide {pyodide_version} ({result['tag']})")
    return True
