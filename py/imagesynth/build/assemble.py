"""Assemble the static site: the app, the core packaged for the page, the runtime.

CPython only.  Layout written into ``dest``::

    index.html  pyscript.json  static/  py/app/      the app (copied if present)
    py/app.zip                                       the app's package, zipped
    py/imagesynth.zip                                the core, pure modules only
    py/pyscript-bytecode.json                        PyScript's own package, compiled
    py/runtime-snapshot.json                         what a snapshot of Python's start holds
    pyscript.<version>/                              @pyscript/core dist/ (plain pyscript/ in
                                                     a site with no index.html: versions.py)
    pyscript.<version>/pyodide/                      pyodide core + served wheels
    pyscript.<version>/pyodide/pyodide-lock.json     hashes of the files served
    pyscript.<version>/micropython/                  only with micropython=True
    runtime.json                                     what the page has

The core is a plain zip of the ``imagesynth`` package that PyScript's ``files``
writes into the page's filesystem (``"./py/imagesynth.zip": "./imagesynth.zip"``)
and the page imports from (main.py puts it on ``sys.path``): no micropip, no lock
entry, no IndexedDB package cache that could hold a stale copy after a rebuild.
The app's ``py/app/`` package goes the same way into ``py/app.zip``, so a new app
module needs no ``files`` line; ``py/app/`` is still copied as plain files
(``main.py`` is the page's ``<script type="py" src>``).

Downloads go to a cache (``.cache/runtime/`` in the repo) and are checked
against ``pins.py``; once the cache is filled a build needs no network.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Callable

from . import bytecode, pins, preloads, pyscript_pyc, snapshot, versions

Log = Callable[[str], None]

# App files copied from the app root, if they exist.
APP_FILES = ("index.html", "pyscript.json", "favicon.ico", "manifest.webmanifest")
APP_DIRS = ("static", "py/app")

# Parts of the package that are CPython-only and never go to the page.
CORE_EXCLUDE_DIRS = {"server", "build", "__pycache__"}
CORE_EXCLUDE_FILES = {"cli.py", "transports/cpython.py", "__main__.py"}
CORE_ZIP = "py/imagesynth.zip"
APP_ZIP = "py/app.zip"
APP_PACKAGE = "py/app"

PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide.js",
    "LICENSE",
)
PILLOW_PROBE_TTL = 24 * 3600  # seconds before PyPI is asked again for a Pillow wheel
ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed: same sources, same zip bytes


class BuildError(RuntimeError):
    pass


# --------------------------------------------------------------------------- paths


def repo_root() -> Path | None:
    """The source checkout this package runs from (editable install), if any."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        pp = parent / "pyproject.toml"
        if pp.is_file() and 'name = "imagesynth"' in pp.read_text(encoding="utf-8"):
            return parent
    return None


def default_cache() -> Path:
    env = os.environ.get("IMAGESYNTH_RUNTIME_CACHE")
    if env:
        return Path(env)
    root = repo_root()
    if root is not None:
        return root / ".cache" / "runtime"
    return Path.home() / ".cache" / "imagesynth" / "runtime"


def core_source() -> Path:
    return Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------- hashing


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def npm_integrity(path: Path) -> str:
    h = hashlib.sha512()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return "sha512-" + base64.b64encode(h.digest()).decode()


def _atomic_move(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dst)


# --------------------------------------------------------------------------- npm


def fetch_npm(pin: pins.NpmPin, cache: Path, log: Log) -> Path:
    """The pinned tarball in the cache, fetched with ``npm pack`` if missing."""
    target = cache / "npm" / pin.tarball_name
    if target.is_file():
        if npm_integrity(target) == pin.integrity:
            return target
        log(f"cache: {target.name} does not match its pin; fetching again")
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as tmp:
        tmpdir = Path(tmp)
        got: Path | None = None
        npm = shutil.which("npm")
        if npm:
            log(f"fetch: npm pack {pin.spec}")
            proc = subprocess.run(
                [npm, "pack", pin.spec, "--pack-destination", str(tmpdir), "--silent"],
                cwd=tmpdir,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=600,
            )
            candidates = list(tmpdir.glob("*.tgz"))
            if proc.returncode == 0 and len(candidates) == 1:
                got = candidates[0]
            else:
                log(f"fetch: npm pack failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
        if got is None:
            log(f"fetch: {pin.registry_url}")
            got = tmpdir / pin.tarball_name
            try:
                with urllib.request.urlopen(pin.registry_url, timeout=120) as r, open(got, "wb") as f:
                    shutil.copyfileobj(r, f)
            except OSError as e:
                raise BuildError(f"cannot fetch {pin.spec} from the npm registry: {e}") from e
        actual = npm_integrity(got)
        if actual != pin.integrity:
            raise BuildError(
                f"{pin.spec}: integrity mismatch\n  pinned {pin.integrity}\n  got    {actual}"
            )
        _atomic_move(got, target)
    return target


def unpack_npm(pin: pins.NpmPin, cache: Path, log: Log) -> Path:
    """The tarball's ``package/`` folder, unpacked once into the cache."""
    root = cache / "unpacked" / pin.tarball_name[: -len(".tgz")]
    marker = root / ".integrity"
    if marker.is_file() and marker.read_text().strip() == pin.integrity:
        return root / "package"
    tarball = fetch_npm(pin, cache, log)
    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=".unpack-"))
    try:
        with tarfile.open(tarball) as tf:
            members = [m for m in tf.getmembers() if m.isfile() or m.isdir()]
            for m in members:
                if m.name.startswith("/") or ".." in Path(m.name).parts:
                    raise BuildError(f"{pin.spec}: unsafe path in tarball: {m.name}")
            kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tf.extractall(tmp, members=members, **kwargs)
        (tmp / ".integrity").write_text(pin.integrity + "\n")
        os.replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return root / "package"


# ------------------------------------------------------------------------ wheels


def _pip_download(args: list[str], dest: Path, *, timeout: float = 600) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable, "-m", "pip", "download",
        "--no-deps", "--only-binary=:all:",
        "--platform", pins.PYODIDE_PLATFORM,
        "--python-version", pins.PYODIDE_PYTHON,
        "--disable-pip-version-check", "--no-input",
        "--timeout", "20", "--retries", "1",
        "-d", str(dest), *args,
    ]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def fetch_wheels(cache: Path, log: Log) -> dict[str, Path]:
    """The pinned pure-Python wheels, downloaded from PyPI with hashes checked."""
    wheel_dir = cache / "wheels"
    wheel_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    missing = []
    for pin in pins.WHEELS:
        path = wheel_dir / pin.filename
        if path.is_file() and sha256_file(path) == pin.sha256:
            out[pin.lock_key] = path
        else:
            missing.append(pin)
    if not missing:
        return out
    log("fetch: pip download " + " ".join(f"{p.name}=={p.version}" for p in missing))
    with tempfile.TemporaryDirectory(dir=wheel_dir, prefix=".fetch-") as tmp:
        tmpdir = Path(tmp)
        req = tmpdir / "requirements.txt"
        req.write_text(
            "".join(f"{p.name}=={p.version} --hash=sha256:{p.sha256}\n" for p in missing)
        )
        dl = tmpdir / "dl"
        proc = _pip_download(["--require-hashes", "-r", str(req)], dl)
        if proc.returncode != 0:
            raise BuildError(
                "pip download of the Pyodide wheels failed (a pip older than 24 may not know "
                f"the {pins.PYODIDE_PLATFORM} tag):\n{proc.stderr.strip()[-1500:]}"
            )
        for pin in missing:
            got = dl / pin.filename
            if not got.is_file() or sha256_file(got) != pin.sha256:
                raise BuildError(f"{pin.filename}: missing or hash mismatch after download")
            _atomic_move(got, wheel_dir / pin.filename)
            out[pin.lock_key] = wheel_dir / pin.filename
    return out


# ------------------------------------------------------------------------ Pillow


def _read_source(base: str, name: str) -> bytes:
    """A file from a Pyodide distribution given as a folder or a URL."""
    if "://" in base:
        url = base.rstrip("/") + "/" + name
        with urllib.request.urlopen(url, timeout=120) as r:
            return r.read()
    return (Path(base) / name).read_bytes()


def _pillow_from_dist(dist: str, cache: Path, abi: str, log: Log) -> tuple[dict[str, Path], dict[str, dict]] | None:
    """Pillow (and what it depends on) from a Pyodide distribution, hash-checked
    against that distribution's own lock file."""
    try:
        lock = json.loads(_read_source(dist, "pyodide-lock.json"))
    except (OSError, ValueError) as e:
        log(f"pillow: cannot read pyodide-lock.json from {dist}: {e}")
        return None
    dist_abi = lock.get("info", {}).get("abi_version")
    if dist_abi != abi:
        log(f"pillow: {dist} is built for ABI {dist_abi}, this Pyodide needs {abi}")
        return None
    packages = lock.get("packages", {})
    files: dict[str, Path] = {}
    entries: dict[str, dict] = {}
    todo = [pins.PILLOW_LOCK_KEY]
    while todo:
        key = todo.pop()
        if key in entries:
            continue
        entry = packages.get(key)
        if entry is None:
            log(f"pillow: {dist} has no '{key}' in its lock file")
            return None
        name, sha = entry["file_name"], entry["sha256"]
        if "/" in name or "\\" in name:
            log(f"pillow: unexpected file name {name!r}")
            return None
        cached = cache / "pillow" / name
        if not (cached.is_file() and sha256_file(cached) == sha):
            try:
                data = _read_source(dist, name)
            except OSError as e:
                log(f"pillow: cannot read {name} from {dist}: {e}")
                return None
            if hashlib.sha256(data).hexdigest() != sha:
                log(f"pillow: {name} does not match the sha256 in {dist}'s lock file")
                return None
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".part")
            tmp.write_bytes(data)
            os.replace(tmp, cached)
        files[key] = cached
        entries[key] = dict(entry)
        todo.extend(d.lower() for d in entry.get("depends", []))
    return files, entries


def _pillow_from_pypi(cache: Path, base_entry: dict | None, refresh: bool, log: Log):
    probe_file = cache / "pillow-pypi-probe.json"
    probe = {}
    if probe_file.is_file():
        try:
            probe = json.loads(probe_file.read_text())
        except ValueError:
            probe = {}
    fresh = not refresh and time.time() - probe.get("checked", 0) < PILLOW_PROBE_TTL
    if fresh and not probe.get("file"):
        return None, probe.get("note", "PyPI has no pyemscripten wheel")
    if fresh and probe.get("file"):
        path = cache / "pillow" / probe["file"]
        if path.is_file() and sha256_file(path) == probe.get("sha256"):
            return path, "PyPI"
    with tempfile.TemporaryDirectory(prefix="pillow-probe-") as tmp:
        proc = _pip_download(["pillow"], Path(tmp), timeout=120)
        got = sorted(Path(tmp).glob("pillow-*.whl")) if proc.returncode == 0 else []
        if not got:
            err = proc.stderr.strip().splitlines()
            reason = "PyPI has no pyemscripten wheel"
            if err and "No matching distribution" not in proc.stderr and "satisfies" not in proc.stderr:
                reason = "PyPI not reachable: " + err[-1][:160]
            probe_file.write_text(json.dumps({"checked": time.time(), "file": None, "note": reason}))
            return None, reason
        wheel = got[0]
        dest = cache / "pillow" / wheel.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(wheel, dest)
    probe_file.write_text(
        json.dumps({"checked": time.time(), "file": dest.name, "sha256": sha256_file(dest)})
    )
    return dest, "PyPI"


def find_pillow(cache: Path, lock: dict, pyodide_dist, refresh: bool, log: Log):
    """(files, lock entries, source) for Pillow, or (None, None, reason)."""
    abi = lock.get("info", {}).get("abi_version", "")
    reasons = []
    if pyodide_dist:
        got = _pillow_from_dist(str(pyodide_dist), cache, abi, log)
        if got:
            return got[0], got[1], f"pyodide-dist {pyodide_dist}"
        reasons.append(f"not in {pyodide_dist}")
    else:
        reasons.append("no --pyodide-dist given")
    path, why = _pillow_from_pypi(cache, lock["packages"].get(pins.PILLOW_LOCK_KEY), refresh, log)
    if path is not None:
        entry = dict(lock["packages"].get(pins.PILLOW_LOCK_KEY) or {
            "name": "Pillow", "imports": ["PIL"], "install_dir": "site",
            "package_type": "package", "unvendored_tests": False, "depends": [],
        })
        entry["file_name"] = path.name
        entry["version"] = path.name.split("-")[1]
        return {pins.PILLOW_LOCK_KEY: path}, {pins.PILLOW_LOCK_KEY: entry}, "PyPI"
    reasons.append(why)
    return None, None, "; ".join(reasons)


# -------------------------------------------------------------------------- core


def package_core(src: Path, dest_zip: Path) -> tuple[str, list[str]]:
    """Zip the pure part of the ``imagesynth`` package (deterministic bytes)."""
    names: list[str] = []
    for path in sorted(src.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(src)
        if set(rel.parts[:-1]) & CORE_EXCLUDE_DIRS or rel.parts[0] in CORE_EXCLUDE_DIRS:
            continue
        if rel.as_posix() in CORE_EXCLUDE_FILES or path.suffix in (".pyc", ".pyo"):
            continue
        names.append(rel.as_posix())
    _write_zip(src, names, "imagesynth", dest_zip)
    return sha256_file(dest_zip), names


def package_app(src: Path, dest_zip: Path) -> tuple[str, list[str]]:
    """Zip the app's package (``py/app/``) as ``app/...`` (deterministic bytes)."""
    names = sorted(
        path.relative_to(src).as_posix()
        for path in src.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.relative_to(src).parts
        and path.suffix not in (".pyc", ".pyo")
        and not path.name.startswith(".")
    )
    _write_zip(src, names, "app", dest_zip)
    return sha256_file(dest_zip), names


def _write_zip(src: Path, names: list[str], prefix: str, dest_zip: Path) -> None:
    dest_zip.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest_zip, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in names:
            info = zipfile.ZipInfo(f"{prefix}/{rel}", ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (src / rel).read_bytes())


def _syntax_problems(src: Path, names: list[str]) -> list[str]:
    out = []
    for rel in names:
        if rel.endswith(".py"):
            try:
                # PyScript runs a page's main module with top-level await allowed
                compile((src / rel).read_bytes(), rel, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                        dont_inherit=True)
            except SyntaxError as e:
                out.append(f"{rel}:{e.lineno}: {e.msg}")
    return out


# ------------------------------------------------------------------------- site


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(
        src, dst, dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".DS_Store"),
    )


def _prepare_dest(dest: Path) -> Path:
    """A fresh sibling folder to build into; swapped in at the end."""
    if dest.exists():
        if not dest.is_dir():
            raise BuildError(f"{dest} exists and is not a folder")
        if any(dest.iterdir()) and not (dest / "runtime.json").is_file():
            raise BuildError(f"{dest} is not empty and holds no earlier build (runtime.json); refusing to replace it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.building-"))
    tmp.chmod(0o755)  # mkdtemp makes it 0700; a web server must read the site
    return tmp


def _swap_in(tmp: Path, dest: Path) -> None:
    if dest.exists():
        old = dest.parent / f".{dest.name}.old-{os.getpid()}"
        os.replace(dest, old)
        os.replace(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, dest)


def build_site(
    dest: Path,
    *,
    app_root: Path | None = None,
    cache: Path | None = None,
    pyodide_dist=None,
    log: Log = print,
    micropython: bool = False,
    refresh: bool = False,
) -> dict:
    """Write a complete static site into ``dest``; return what runtime.json says."""
    t0 = time.monotonic()
    dest = Path(dest).resolve()
    cache = Path(cache) if cache is not None else default_cache()
    cache.mkdir(parents=True, exist_ok=True)
    if app_root is None:
        app_root = repo_root()
    if pyodide_dist is None:
        pyodide_dist = os.environ.get("IMAGESYNTH_PYODIDE_DIST") or None

    # Inputs first (may download), so a failed fetch leaves dest untouched.
    pyscript_pkg = unpack_npm(pins.PYSCRIPT, cache, log)
    pyodide_pkg = unpack_npm(pins.PYODIDE, cache, log)
    mpy_pkg = unpack_npm(pins.MICROPYTHON, cache, log) if micropython else None
    wheels = fetch_wheels(cache, log)
    base_lock = json.loads((pyodide_pkg / "pyodide-lock.json").read_text(encoding="utf-8"))
    pillow_files, pillow_entries, pillow_source = find_pillow(cache, base_lock, pyodide_dist, refresh, log)

    tmp = _prepare_dest(dest)
    try:
        # The app.
        app_copied = []
        if app_root is not None:
            for name in APP_FILES:
                if (app_root / name).is_file():
                    (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(app_root / name, tmp / name)
                    app_copied.append(name)
            for name in APP_DIRS:
                if (app_root / name).is_dir():
                    _copy_tree(app_root / name, tmp / name)
                    app_copied.append(name + "/")
        if "index.html" not in app_copied:
            log("app: no index.html yet; the site has the runtime only")
        app_zip = None
        if app_root is not None and (app_root / APP_PACKAGE).is_dir():
            app_sha, app_names = package_app(app_root / APP_PACKAGE, tmp / APP_ZIP)
            for problem in _syntax_problems(app_root / APP_PACKAGE, app_names):
                log(f"app: syntax error (this Python): {problem}")
            app_zip = {"file": APP_ZIP, "sha256": app_sha, "modules": len(app_names)}

        # The core.
        src = core_source()
        core_sha, core_names = package_core(src, tmp / CORE_ZIP)
        for problem in _syntax_problems(src, core_names):
            log(f"core: syntax error (this Python): {problem}")

        # PyScript.
        ps_dir = tmp / "pyscript"
        shutil.copytree(pyscript_pkg / "dist", ps_dir, ignore=shutil.ignore_patterns("*.map"))
        if (pyscript_pkg / "LICENSE").is_file():
            shutil.copy2(pyscript_pkg / "LICENSE", ps_dir / "LICENSE")
        if "index.html" in app_copied:
            names = preloads.write_preloads(tmp / "index.html", ps_dir)
            if names:
                log(f"app: index.html preloads {', '.join(names)}")

        # Pyodide: core files, the wheels we serve, and a lock file that matches them.
        py_dir = ps_dir / "pyodide"
        py_dir.mkdir()
        for name in PYODIDE_FILES:
            if (pyodide_pkg / name).is_file():
                shutil.copy2(pyodide_pkg / name, py_dir / name)
        served: dict[str, Path] = dict(wheels)
        entries: dict[str, dict] = {k: dict(base_lock["packages"][k]) for k in wheels}
        if pillow_files:
            served.update(pillow_files)
            entries.update(pillow_entries)
        lock_packages = {}
        for key, path in sorted(served.items()):
            shutil.copy2(path, py_dir / path.name)
            entry = entries[key]
            entry["file_name"] = path.name
            entry["sha256"] = sha256_file(py_dir / path.name)
            lock_packages[key] = entry
        # Entries for packages not served stay, pointing at files that are not
        # here: asking for one fails at once with a local 404 ("Failed to load
        # numpy").  Removed, micropip would go to pypi.org instead, which is a
        # request off this host and, offline, a long hang.
        lock = {"info": base_lock["info"], "packages": {**base_lock["packages"], **lock_packages}}
        (py_dir / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")

        if mpy_pkg is not None:
            mpy_dir = ps_dir / "micropython"
            mpy_dir.mkdir()
            for path in mpy_pkg.iterdir():
                if path.suffix in (".mjs", ".wasm") or path.name == "LICENSE":
                    shutil.copy2(path, mpy_dir / path.name)

        # Bytecode for the page's modules, made by the served Pyodide (changes the zips' bytes),
        # and for the stdlib modules the page imports at start (changes python_stdlib.zip).
        pkg_json = json.loads((pyodide_pkg / "package.json").read_text())
        page_python = [tmp / CORE_ZIP] + ([tmp / APP_ZIP] if app_zip else [])
        page_python += [p for p in (tmp / "py" / "app").glob("*.py")] if (tmp / "py" / "app").is_dir() else []
        page_python += [ps_dir / n for n in preloads.chunk_names(ps_dir)]  # PyScript's own Python package
        stdlib_pycs = bytecode.stdlib_bytecode(py_dir / "python_stdlib.zip", page_python, py_dir,
                                               pkg_json["version"], cache, log)
        zips = [tmp / CORE_ZIP] + ([tmp / APP_ZIP] if app_zip else [])
        has_bytecode = bytecode.add_bytecode(zips, py_dir, pkg_json["version"], cache, log)
        pyscript_pycs = pyscript_pyc.write_pyscript_bytecode(tmp, py_dir, pkg_json["version"], cache, log)
        # the runtime is complete: its folder is named by its contents (build/versions.py says why)
        runtime_name = versions.version_runtime(tmp)
        py_dir = tmp / runtime_name / "pyodide"
        if runtime_name != versions.RUNTIME:
            log(f"runtime: {runtime_name}/, named by its contents (a host may cache it for good)")
        snapshot_key = snapshot.write_snapshot_files(tmp, py_dir, stdlib_pycs)
        core_sha = sha256_file(tmp / CORE_ZIP)
        if app_zip:
            app_zip["sha256"] = sha256_file(tmp / APP_ZIP)

        if pillow_files:
            log(f"pillow: {pillow_entries[pins.PILLOW_LOCK_KEY]['version']} from {pillow_source}")
        else:
            log(f"pillow: none for Pyodide ({pillow_source}): the page uses the canvas imaging backend")

        runtime = {
            "pillow": bool(pillow_files),
            "pillow_version": pillow_entries[pins.PILLOW_LOCK_KEY]["version"] if pillow_files else None,
            "pillow_source": pillow_source if pillow_files else None,
            "pillow_note": None if pillow_files else pillow_source,
            "imaging": "pillow" if pillow_files else "canvas",
            "pyodide": pkg_json["version"],
            "python": _pyodide_python(pyodide_pkg),
            "pyscript": pins.PYSCRIPT.version,
            "micropython": pins.MICROPYTHON.version if mpy_pkg is not None else None,
            "interpreter": f"./{runtime_name}/pyodide/pyodide.mjs",
            "packages": {
                e["name"] if key != pins.PILLOW_LOCK_KEY else key: e["version"]
                for key, e in lock_packages.items()
            },
            "core": {"file": CORE_ZIP, "sha256": core_sha, "modules": len(core_names)},
            "bytecode": has_bytecode,
            "stdlib_bytecode": len(stdlib_pycs),
            "pyscript_bytecode": pyscript_pycs,
            "snapshot_key": snapshot_key,
            "app": app_copied,
            "app_zip": app_zip,
            "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (tmp / "runtime.json").write_text(json.dumps(runtime, indent=2) + "\n")
        # last: the versioned copies are of the files as served, runtime.json included
        try:
            renamed = versions.write_versions(tmp)
        except ValueError as e:
            raise BuildError(str(e)) from None
        stray = versions.unversioned_references(tmp, renamed) if renamed else []
        if stray:
            raise BuildError("the page names these files without their version: " + "; ".join(stray)
                             + ". Name the versioned copy, or teach build/versions.py that form of reference.")
        _swap_in(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    secs = time.monotonic() - t0
    log(f"site: {dest} ({secs:.1f} s)")
    return {**runtime, "dest": str(dest), "seconds": round(secs, 3)}


def _pyodide_python(pyodide_pkg: Path) -> str:
    """Python version of the Pyodide build (as named in its lock file)."""
    try:
        lock = json.loads((pyodide_pkg / "pyodide-lock.json").read_text(encoding="utf-8"))
        return lock["info"]["python"]
    except (OSError, ValueError, KeyError):
        return pins.PYODIDE_PYTHON
