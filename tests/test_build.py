"""`imagesynth build`: the static site has the app, the core and a consistent runtime."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from imagesynth.build import BuildError, bytecode, pins, preloads, pyscript_pyc, snapshot, versions
from imagesynth.build.cli import build_site, main

ROOT = Path(__file__).resolve().parent.parent


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def app_root(tmp_path_factory) -> Path:
    """A stand-in app, so the test does not depend on the app's files of the day."""
    root = tmp_path_factory.mktemp("app")
    (root / "index.html").write_text("<!doctype html><title>t</title>\n" + snapshot.MARKER + "\n"
                                     + preloads.MARKER + "\n")
    (root / "pyscript.json").write_text('{"files": {"./py/app.zip": "./*"}}\n')
    (root / "static").mkdir()
    (root / "static" / "app.css").write_text("body{}")
    (root / "py" / "app").mkdir(parents=True)
    (root / "py" / "app" / "main.py").write_text("print('hi')\n")
    (root / "py" / "app" / "util.py").write_text("X = 1\n")
    (root / "py" / "app" / "__pycache__").mkdir()
    (root / "py" / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"x")
    (root / "secret.txt").write_text("not part of the site")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory, app_root):
    dest = tmp_path_factory.mktemp("out") / "site"
    logs: list[str] = []
    info = build_site(dest, app_root=app_root, log=logs.append)
    return dest, info, logs


def test_app_files_copied(built):
    dest, info, _ = built
    assert (dest / "index.html").is_file()
    assert (dest / "pyscript.json").is_file()
    assert (dest / "static" / "app.css").is_file()
    assert (dest / "py" / "app" / "main.py").is_file()
    assert not (dest / "py" / "app" / "__pycache__").exists()
    assert not (dest / "secret.txt").exists()
    assert dest.stat().st_mode & 0o755 == 0o755  # readable by a web server


def test_runtime_files(built):
    dest, _, logs = built
    runtime = versions.runtime_dir(dest)
    assert versions.VERSIONED_RUNTIME.match(runtime.name)  # the site has a page: a versioned folder
    assert not (dest / "pyscript").exists()
    assert f"runtime: {runtime.name}/, named by its contents (a host may cache it for good)" in logs
    for rel in ("core.js", "core.css", "pyodide/pyodide.mjs", "pyodide/pyodide.asm.mjs",
                "pyodide/pyodide.asm.wasm", "pyodide/python_stdlib.zip", "pyodide/pyodide-lock.json"):
        assert (runtime / rel).is_file(), rel
    assert not list(runtime.glob("*.map"))
    assert not (runtime / "micropython").exists()  # off by default


def test_lock_hashes_match_served_files(built):
    dest, _, _ = built
    pdir = versions.runtime_dir(dest) / "pyodide"
    lock = json.loads((pdir / "pyodide-lock.json").read_text())
    served = {p.name for p in pdir.glob("*.whl")}
    assert {w.filename for w in pins.WHEELS} <= served
    by_file = {e["file_name"]: e for e in lock["packages"].values()}
    for name in served:
        assert by_file[name]["sha256"] == sha256(pdir / name), name
    for pin in pins.WHEELS:
        assert lock["packages"][pin.lock_key]["sha256"] == pin.sha256


def test_core_zip_holds_only_pure_modules(built):
    dest, info, _ = built
    zpath = dest / "py" / "imagesynth.zip"
    names = zipfile.ZipFile(zpath).namelist()
    assert "imagesynth/models.py" in names
    assert all(n.startswith("imagesynth/") for n in names)
    for bad in ("imagesynth/cli.py", "imagesynth/transports/cpython.py"):
        assert bad not in names
    assert not [n for n in names if n.startswith(("imagesynth/server/", "imagesynth/build/"))]
    assert not [n for n in names if "__pycache__" in n]  # no host pycs (the build's sit beside their sources)
    assert info["core"]["sha256"] == sha256(zpath)


def test_runtime_json(built):
    dest, info, logs = built
    rj = json.loads((dest / "runtime.json").read_text())
    assert rj["pyscript"] == pins.PYSCRIPT.version == "0.7.31"
    assert rj["pyodide"] == pins.PYODIDE.version
    assert rj["interpreter"] == f"./{versions.runtime_dir(dest).name}/pyodide/pyodide.mjs"
    assert rj["pillow"] in (True, False)
    assert rj["imaging"] == ("pillow" if rj["pillow"] else "canvas")
    assert rj["packages"]["micropip"] == "0.11.1"
    assert rj["micropython"] is None
    # Pillow's fate is said in one line of the log.
    assert sum(1 for line in logs if line.startswith("pillow:")) == 1


def test_rebuild_is_fast_and_same(built, tmp_path, app_root):
    dest, info, _ = built
    import time

    t0 = time.monotonic()
    again = build_site(tmp_path / "s", app_root=app_root, log=lambda m: None)
    assert time.monotonic() - t0 < 20  # warm cache: no network, only copies
    assert again["core"]["sha256"] == info["core"]["sha256"]  # deterministic zip
    assert again["app_zip"]["sha256"] == info["app_zip"]["sha256"]


def test_app_package_zipped(built):
    """py/app/ goes to py/app.zip as app/... (the page imports from it: pyscript.json writes it as
    ./app.zip and main.py puts that on sys.path)."""
    dest, info, _ = built
    with zipfile.ZipFile(dest / "py" / "app.zip") as zf:
        sources = sorted(n for n in zf.namelist() if n.endswith(".py"))
        assert sources == ["app/main.py", "app/util.py"]
        assert "app/__pycache__/main.cpython-311.pyc" not in zf.namelist()  # the host's pycs stay home
        assert zf.read("app/main.py") == b"print('hi')\n"
    assert info["app_zip"] == {"file": "py/app.zip", "sha256": sha256(dest / "py" / "app.zip"), "modules": 2}


def test_repo_pyscript_json():
    """One zip for the app, no "packages" key (even [] loads micropip), PyScript's plugins off
    (the error plugin would print tracebacks into the page). The zips are written as files, not
    unpacked, where main.py puts them on sys.path (the page imports from them)."""
    config = json.loads((ROOT / "pyscript.json").read_text())
    files = config["files"]
    assert files.get("./py/app.zip") == "./app.zip" and files.get("./py/imagesynth.zip") == "./imagesynth.zip"
    assert files.get("./runtime.json") == "./runtime.json"  # read by main.py with no await
    main = (ROOT / "py" / "app" / "main.py").read_text()
    assert 'PACKAGE_ZIPS = ("imagesynth.zip", "app.zip")' in main
    assert not [k for k in files if k.startswith("./py/app/")]  # one zip, not a list of modules
    assert "packages" not in config
    assert "!error" in config["plugins"]
    index = (ROOT / "index.html").read_text()
    assert 'config="pyscript.json"' in index
    for name in ("pyscript.json", "runtime.json"):
        assert f'<link rel="preload" href="{name}" as="fetch" crossorigin="anonymous">' in index


def test_pyscript_chunks_preloaded(built):
    """The build names PyScript's hashed chunks in index.html: core.js's re-export and the
    error plugin, the two module round trips before Pyodide starts."""
    dest, _, logs = built
    html = (dest / "index.html").read_text()
    assert preloads.MARKER not in html
    core_js = (versions.runtime_dir(dest) / "core.js").read_text()
    names = preloads.chunk_names(versions.runtime_dir(dest))
    assert len(names) == 2 and names[0] in core_js and names[1].startswith("error-")
    for name in names:
        assert f'<link rel="modulepreload" href="{versions.runtime_dir(dest).name}/{name}">' in html
        assert (versions.runtime_dir(dest) / name).is_file()
    assert ROOT.joinpath("index.html").read_text().count(preloads.MARKER) == 1


def test_runtime_snapshot_is_named_for_its_runtime(built):
    """The page reads which runtime it has from a <meta>; the worker that saves a snapshot reads
    the same key and the modules to import from the manifest."""
    dest, info, _ = built
    html = (dest / "index.html").read_text()
    assert snapshot.MARKER not in html
    key = info["snapshot_key"]
    assert len(key) == 24 and f'<meta name="{snapshot.META_NAME}" content="{key}">' in html
    manifest = json.loads((dest / snapshot.MANIFEST).read_text())
    assert manifest["key"] == key
    assert len(manifest["modules"]) == info["stdlib_bytecode"]
    assert key == snapshot.snapshot_key(versions.runtime_dir(dest) / "pyodide", manifest["modules"], dest / snapshot.WORKER)
    assert ROOT.joinpath("index.html").read_text().count(snapshot.MARKER) == 1
    assert ROOT.joinpath(snapshot.WORKER).is_file()


def test_snapshot_key_follows_every_input(tmp_path):
    """A snapshot is only good for the runtime it was made from: the key changes with each of
    Pyodide's files, the stdlib zip, the modules imported and the worker that makes it."""
    pyo = tmp_path / "pyodide"
    pyo.mkdir()
    for name in snapshot.RUNTIME_FILES:
        (pyo / name).write_bytes(name.encode())
    worker = tmp_path / "worker.js"
    worker.write_text("// v1")
    key = snapshot.snapshot_key(pyo, ["json", "re"], worker)
    assert key == snapshot.snapshot_key(pyo, ["re", "json"], worker)  # the order of import is not its input
    assert key != snapshot.snapshot_key(pyo, ["json"], worker)
    worker.write_text("// v2")
    assert key != snapshot.snapshot_key(pyo, ["json", "re"], worker)
    worker.write_text("// v1")
    for name in snapshot.RUNTIME_FILES:
        (pyo / name).write_bytes(b"changed")
        assert key != snapshot.snapshot_key(pyo, ["json", "re"], worker), name
        (pyo / name).write_bytes(name.encode())
    assert key == snapshot.snapshot_key(pyo, ["json", "re"], worker)


def test_no_snapshot_marker_no_snapshot(tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>t</title>")
    assert snapshot.write_snapshot_files(tmp_path, tmp_path, ["json"]) is None
    assert not (tmp_path / snapshot.MANIFEST).exists()
    assert (tmp_path / "index.html").read_text() == "<!doctype html><title>t</title>"


def test_no_marker_no_change(tmp_path):
    index = tmp_path / "index.html"
    index.write_text("<!doctype html><title>t</title>")
    assert preloads.write_preloads(index, tmp_path) == []
    assert index.read_text() == "<!doctype html><title>t</title>"


needs_node = pytest.mark.skipif(not (shutil.which("node") or shutil.which("nodejs")),
                                reason="no Node.js: the build ships sources only")


@needs_node
def test_bytecode_for_every_module(built):
    """Each module but main.py has an unchecked-hash pyc for the page's Python (3.14), made
    from exactly the source beside it, where zipimport looks for it (name.pyc, not __pycache__).
    (The build reads each back through zipimport in Pyodide; a browser test wants the page to
    compile none.)"""
    import _imp

    dest, info, logs = built
    assert info["bytecode"] is True
    assert any(line.startswith("bytecode: ") for line in logs)
    for zname, prefix in (("imagesynth.zip", "imagesynth/"), ("app.zip", "app/")):
        with zipfile.ZipFile(dest / "py" / zname) as zf:
            names = set(zf.namelist())
            sources = [n for n in names if n.endswith(".py") and not n.endswith("/main.py")]
            assert sources
            for src in sources:
                pyc = src[:-3] + ".pyc"
                assert pyc in names, pyc
                data = zf.read(pyc)
                assert int.from_bytes(data[4:8], "little") == 1  # hash-based, unchecked (PEP 552)
                # the pyc's own magic number keys the source hash, as the page's importer checks it
                key = int.from_bytes(data[:4], "little")
                assert data[8:16] == _imp.source_hash(key, zf.read(src))
            assert f"{prefix}main.pyc" not in names
            assert not [n for n in names if "__pycache__" in n]


@needs_node
def test_stdlib_start_up_modules_have_bytecode(built):
    """The served stdlib has pycs instead of sources for what Python's start, PyScript and the
    page import; everything else keeps its source. (A browser test checks the page then
    compiles no stdlib module at start.)"""
    dest, info, logs = built
    assert info["stdlib_bytecode"] > 100
    assert any(line.startswith("stdlib bytecode: ") for line in logs)
    with zipfile.ZipFile(versions.runtime_dir(dest) / "pyodide" / "python_stdlib.zip") as zf:
        names = set(zf.namelist())
        # asyncio: Pyodide's own start; html.entities: PyScript's package (import base64,html,io)
        for mod in ("asyncio/__init__", "json/decoder", "html/entities", "encodings/cp437"):
            assert f"{mod}.pyc" in names and f"{mod}.py" not in names, mod
            data = zf.read(f"{mod}.pyc")
            assert int.from_bytes(data[4:8], "little") == 1  # hash-based, unchecked (PEP 552)
        assert "smtplib.py" in names and "smtplib.pyc" not in names  # not imported at start


def test_imported_names_from_python_zips_and_js(tmp_path):
    z = tmp_path / "m.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("m/a.py", "import os.path, json\nfrom urllib import parse\nfrom . import b\n"
                              "def f():\n    import ipaddress\n")
    main = tmp_path / "main.py"
    main.write_text("import asyncio\nawait asyncio.sleep(0)\n")  # top-level await, as PyScript runs it
    chunk = tmp_path / "core-x.js"
    chunk.write_text('const a="A=1\\nimport base64,html,io\\nfrom textwrap import dedent\\n";import{x}from"./y.js";')
    names = set(bytecode.imported_names([z, main, chunk]))
    assert {"os.path", "json", "urllib", "urllib.parse", "ipaddress", "asyncio", "base64", "html", "io",
            "textwrap", "textwrap.dedent", "encodings.cp437"} <= names
    assert "b" not in names and "y" not in names


def test_stdlib_bytecode_without_node_keeps_sources(tmp_path):
    z = tmp_path / "python_stdlib.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("json/__init__.py", "X = 1\n")
    before = z.read_bytes()
    logs: list[str] = []
    assert bytecode.stdlib_bytecode(z, [], tmp_path, "0", tmp_path / "cache", logs.append,
                                    node=str(tmp_path / "no-such-node")) == []
    assert z.read_bytes() == before
    assert len(logs) == 1 and "sources only" in logs[0]


def test_bytecode_without_node_keeps_sources(tmp_path):
    z = tmp_path / "m.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("m/a.py", "A = 1\n")
    before = z.read_bytes()
    logs: list[str] = []
    ok = bytecode.add_bytecode([z], tmp_path, "0", tmp_path / "cache", logs.append,
                               node=str(tmp_path / "no-such-node"))
    assert ok is False
    assert z.read_bytes() == before
    assert len(logs) == 1 and "sources only" in logs[0]


def test_rebuild_replaces_earlier_site_but_not_other_folders(tmp_path, app_root):
    dest = tmp_path / "site"
    build_site(dest, app_root=app_root, log=lambda m: None)
    (dest / "stale.txt").write_text("old")
    build_site(dest, app_root=app_root, log=lambda m: None)
    assert not (dest / "stale.txt").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(BuildError):
        build_site(other, app_root=app_root, log=lambda m: None)
    assert (other / "keep.txt").read_text() == "mine"


def test_missing_index_html_is_not_an_error(tmp_path):
    empty = tmp_path / "app"
    empty.mkdir()
    info = build_site(tmp_path / "site", app_root=empty, log=lambda m: None)
    assert not (tmp_path / "site" / "index.html").exists()
    assert info["app"] == []


def test_pillow_from_a_pyodide_dist_folder(tmp_path, app_root):
    """--pyodide-dist DIR: Pillow is taken from it, checked against its lock."""
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = dist / "pillow-12.2.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
    with zipfile.ZipFile(wheel, "w") as zf:  # a stand-in: only the plumbing is tested here
        zf.writestr("PIL/__init__.py", "")
    lock = {"info": {"abi_version": "2026_0"}, "packages": {"pillow": {
        "name": "Pillow", "version": "12.2.0", "file_name": wheel.name, "sha256": sha256(wheel),
        "depends": [], "imports": ["PIL"], "install_dir": "site", "package_type": "package",
        "unvendored_tests": False}}}
    (dist / "pyodide-lock.json").write_text(json.dumps(lock))
    cache = tmp_path / "cache"
    # Share the downloads of the real cache; Pillow lands in this test's own cache.
    from imagesynth.build.assemble import default_cache

    real = default_cache()
    for sub in ("npm", "wheels", "unpacked"):
        if (real / sub).exists():
            (cache / sub).parent.mkdir(parents=True, exist_ok=True)
            (cache / sub).symlink_to(real / sub)
    info = build_site(tmp_path / "site", app_root=app_root, cache=cache, pyodide_dist=dist,
                      log=lambda m: None)
    assert info["pillow"] is True and info["imaging"] == "pillow"
    served = versions.runtime_dir(tmp_path / "site") / "pyodide" / wheel.name
    lock_out = json.loads((served.parent / "pyodide-lock.json").read_text())
    assert lock_out["packages"]["pillow"]["sha256"] == sha256(served)

    # A dist whose file does not match its own lock is refused.
    wheel.write_bytes(b"tampered")
    (cache / "pillow" / wheel.name).unlink()
    info = build_site(tmp_path / "site", app_root=app_root, cache=cache, pyodide_dist=dist,
                      log=lambda m: None)
    assert info["pillow"] is False


def test_cli_main(tmp_path, app_root, capsys):
    assert main(["build", str(tmp_path / "s"), "--app-root", str(app_root), "-q"]) == 0
    assert (tmp_path / "s" / "runtime.json").is_file()


def _fake_pyscript(folder: Path, chunk_text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "core.js").write_text('export*from"./core-abc.js";')
    (folder / "core-abc.js").write_text(chunk_text)
    return folder


def test_pyscript_package_read_from_its_chunk(tmp_path):
    """PyScript's Python package, as the chunk's object literal carries it: braces and quotes
    inside the sources do not end it, bare keys are names, nested objects are folders."""
    chunk = ('const a={x:1};wo(".",{pyscript:{"__init__.py":"A = \'}\'\\nB = \\"{\\"\\n",'
             '"util.py":"X = {1: 2}\\n",sub:{"m.py":"import json\\n"}}}),ho.push("import pyscript");')
    ps = _fake_pyscript(tmp_path / "pyscript", chunk)
    assert pyscript_pyc.package_sources(ps) == {
        "pyscript/__init__.py": "A = '}'\nB = \"{\"\n",
        "pyscript/util.py": "X = {1: 2}\n",
        "pyscript/sub/m.py": "import json\n",
    }
    _fake_pyscript(ps, "wo(\".\",{other:{}});")  # a PyScript that carries it differently
    assert pyscript_pyc.package_sources(ps) == {}


def test_pyscript_bytecode_file_is_written_even_with_nothing_in_it(tmp_path):
    """No package found (or no Node.js): an empty file, so the page never asks for a missing one."""
    site = tmp_path / "site"
    _fake_pyscript(site / "pyscript", "const nothing_here=1;")
    logs: list[str] = []
    assert pyscript_pyc.write_pyscript_bytecode(site, tmp_path, "0", tmp_path / "cache", logs.append) == 0
    assert json.loads((site / pyscript_pyc.OUT).read_text()) == {"files": {}}
    assert len(logs) == 1 and "compiles it at every start" in logs[0]


@needs_node
def test_pyscript_package_has_checked_bytecode(built):
    """Every module of PyScript's package (as its served chunk carries it) has a checked-hash
    pyc for the page's Python, made from that source, under the name Python looks for in
    pyscript/__pycache__. (A browser test checks the page used every one.)"""
    import _imp

    dest, info, logs = built
    sources = pyscript_pyc.package_sources(versions.runtime_dir(dest))
    assert "pyscript/__init__.py" in sources and len(sources) > 5
    files = json.loads((dest / pyscript_pyc.OUT).read_text())["files"]
    assert info["pyscript_bytecode"] == len(files) == len(sources)
    assert any(line.startswith("pyscript bytecode: ") for line in logs)
    for path, source in sources.items():
        folder, _, name = path.rpartition("/")
        pyc = base64.b64decode(files[f"{folder}/__pycache__/{name[:-3]}.cpython-314.pyc"])
        assert int.from_bytes(pyc[4:8], "little") == 3  # hash-based, checked (PEP 552)
        assert pyc[8:16] == _imp.source_hash(int.from_bytes(pyc[:4], "little"), source.encode())
