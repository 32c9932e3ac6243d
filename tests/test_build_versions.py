"""The build's versioned copies of the app's files and its versioned runtime folder
(build/versions.py): the page, its PyScript config and its scripts name the copies and the
folder, and nothing names a versioned file any other way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from imagesynth.build import versions

ROOT = Path(__file__).resolve().parents[1]

INDEX = """<!doctype html>
<link rel="icon" href="static/icon.svg">
<script>document.documentElement.classList.add("first-run");</script>
<link rel="stylesheet" href="static/app.css">
<script type="module" async src="static/start-pyodide.js"></script>
<a href="#prompt">skip</a>
<script type="module" src="pyscript/core.js"></script>
<link rel="preload" href="py/app.zip" as="fetch">
<script type="py" src="py/app/main.py" config="pyscript.json"></script>
"""
CONFIG = {"interpreter": "./static/start-pyodide.js",
          "files": {"./py/app.zip": "./app.zip", "./runtime.json": "./runtime.json"},
          "js_modules": {"main": {"./static/idb.js": "idb"}}}
SCRIPTS = {
    "static/start-pyodide.js": 'const s = import("./snapshot-restore.js");\n'
                               'fetch(new URL("../py/pyscript-bytecode.json", import.meta.url));\n'
                               'new URL("snapshot-worker.js", import.meta.url);\n'
                               'import("../pyscript/pyodide/pyodide.mjs");\n',
    "static/snapshot-restore.js": "// imports snapshot-save.js when idle\nimport('./snapshot-save.js');\n",
    "static/snapshot-save.js": 'import { writeNote } from "./snapshot-restore.js";\n',
    "static/snapshot-worker.js": 'import { pack } from "./snapshot-restore.js";\n',
    "static/shell.js": "2;\n", "static/idb.js": "export {};\n",
}


@pytest.fixture
def site(tmp_path) -> Path:
    (tmp_path / "static").mkdir()
    (tmp_path / "py" / "app").mkdir(parents=True)
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "pyscript.json").write_text(json.dumps(CONFIG))
    for rel, text in SCRIPTS.items():
        (tmp_path / rel).write_text(text)
    (tmp_path / "static" / "app.css").write_text("body{}")
    (tmp_path / "static" / "icon.svg").write_text("<svg/>")
    (tmp_path / "py" / "app" / "main.py").write_text("print(1)\n")
    (tmp_path / "py" / "app.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    (tmp_path / "py" / "pyscript-bytecode.json").write_text("{}")
    (tmp_path / "runtime.json").write_text("{}")
    (tmp_path / "pyscript" / "pyodide").mkdir(parents=True)
    (tmp_path / "pyscript" / "core.js").write_text("export {};\n")
    (tmp_path / "pyscript" / "pyodide" / "pyodide.asm.wasm").write_bytes(b"\0asm old")
    return tmp_path


def test_the_runtime_folder_is_named_by_its_contents(site):
    name = versions.version_runtime(site)
    assert versions.VERSIONED_RUNTIME.match(name) and versions.runtime_dir(site) == site / name
    assert not (site / "pyscript").exists()  # renamed, not copied: 16 MB
    assert (site / name / "pyodide" / "pyodide.asm.wasm").read_bytes() == b"\0asm old"
    html = (site / "index.html").read_text()
    assert f'src="{name}/core.js"' in html and "pyscript/" not in html
    assert f'import("../{name}/pyodide/pyodide.mjs")' in (site / "static" / "start-pyodide.js").read_text()
    app_version = versions.write_versions(site)["static/start-pyodide.js"]
    assert f'import("../{name}/pyodide/pyodide.mjs")' in (site / app_version).read_text()
    assert versions.unversioned_references(site, versions.write_versions(site)) == []


def test_a_new_runtime_gets_a_new_folder_and_a_new_app_version(tmp_path, site):
    """A returning visitor's cache holds the old folder and the old start-pyodide.js: the new
    page must name neither."""
    other = tmp_path / "other"
    shutil.copytree(site, other)
    (other / "pyscript" / "pyodide" / "pyodide.asm.wasm").write_bytes(b"\0asm new")
    old_name, new_name = versions.version_runtime(site), versions.version_runtime(other)
    assert old_name != new_name
    old, new = versions.write_versions(site), versions.write_versions(other)
    assert old["static/start-pyodide.js"] != new["static/start-pyodide.js"]
    assert old["static/app.css"] != new["static/app.css"]  # one version for the set


def test_a_site_with_no_page_keeps_the_runtimes_plain_name(site):
    """A runtime for someone's own pages: they name its files, so the names stay."""
    (site / "index.html").unlink()
    assert versions.version_runtime(site) == "pyscript"
    assert versions.runtime_dir(site) == site / "pyscript" and (site / "pyscript" / "core.js").is_file()


def test_the_page_names_the_versioned_copies(site):
    runtime = versions.version_runtime(site)
    names = versions.write_versions(site)
    assert set(names) == {*SCRIPTS, "static/app.css", "static/icon.svg", "py/app/main.py", "py/app.zip",
                          "py/pyscript-bytecode.json", "runtime.json"}
    tags = {new.rsplit(".", 2)[1] for new in names.values()}
    assert len(tags) == 1  # one version for all: the scripts name each other in a cycle
    for rel, new in names.items():
        assert (site / rel).is_file() and (site / new).is_file()  # the plain file stays
        assert versions.VERSIONED_NAME.match(new.rpartition("/")[2])
        assert not versions.VERSIONED_NAME.match(rel.rpartition("/")[2])
    assert (site / names["static/app.css"]).read_text() == "body{}"

    html = (site / "index.html").read_text()
    for rel in ("static/icon.svg", "static/app.css", "static/start-pyodide.js",
                "py/app.zip", "py/app/main.py"):
        assert f'"{names[rel]}"' in html and f'"{rel}"' not in html
    assert 'href="#prompt"' in html and f'src="{runtime}/core.js"' in html and 'config="pyscript.json"' in html
    assert '<script>document.documentElement.classList.add("first-run");</script>' in html  # inline: left as it is

    config = json.loads((site / "pyscript.json").read_text())
    assert config["interpreter"] == "./" + names["static/start-pyodide.js"]
    assert config["files"] == {"./" + names["py/app.zip"]: "./app.zip", "./" + names["runtime.json"]: "./runtime.json"}
    assert config["js_modules"] == {"main": {"./" + names["static/idb.js"]: "idb"}}

    base = {rel: new.rpartition("/")[2] for rel, new in names.items()}
    start = (site / names["static/start-pyodide.js"]).read_text()
    assert f'import("./{base["static/snapshot-restore.js"]}")' in start
    assert f'"../py/{base["py/pyscript-bytecode.json"]}"' in start
    assert f'new URL("{base["static/snapshot-worker.js"]}"' in start
    assert f'import("../{runtime}/pyodide/pyodide.mjs")' in start  # its files keep their names
    restore = (site / names["static/snapshot-restore.js"]).read_text()
    assert f"import('./{base['static/snapshot-save.js']}')" in restore
    assert "// imports snapshot-save.js when idle" in restore  # comments are not references
    assert f'from "./{base["static/snapshot-restore.js"]}"' in (site / names["static/snapshot-save.js"]).read_text()
    assert versions.unversioned_references(site, names) == []


def test_a_reference_the_build_does_not_rewrite_is_found(site):
    versions.version_runtime(site)
    names = versions.write_versions(site)
    (site / "index.html").write_text((site / "index.html").read_text() + '<script src="static/shell.js"></script>\n'
                                     '<link rel="modulepreload" href="pyscript/core.js">\n')
    worker = site / names["static/snapshot-worker.js"]
    worker.write_text(worker.read_text() + "importScripts(`static/idb.js`);\n"
                      'import("../pyscript/pyodide/pyodide.mjs");\n')
    (site / "pyscript.json").write_text(json.dumps({**CONFIG, "files": {"./py/app.zip": "./app.zip"}}))
    found = versions.unversioned_references(site, names)
    assert "index.html: static/shell.js" in found
    assert "pyscript.json: ./static/start-pyodide.js" in found and "pyscript.json: ./py/app.zip" in found
    assert "pyscript.json: ./static/idb.js" in found
    assert f"{names['static/snapshot-worker.js']}: idb.js" in found
    assert "index.html: pyscript/core.js" in found and f"{names['static/snapshot-worker.js']}: pyscript/" in found


def test_a_config_that_is_not_json_is_said_and_nothing_is_rewritten(site):
    (site / "pyscript.json").write_text('{"interpreter": "./static/start-pyodide.js",')
    with pytest.raises(ValueError, match="pyscript.json is not valid JSON.*fix the app's pyscript.json"):
        versions.write_versions(site)
    assert (site / "pyscript.json").read_text() == '{"interpreter": "./static/start-pyodide.js",'
    assert (site / "index.html").read_text() == INDEX
    assert not list(site.rglob("*.*.js"))  # no copy written
    (site / "pyscript.json").write_text("[]")
    with pytest.raises(ValueError, match="pyscript.json is not a JSON object"):
        versions.write_versions(site)


def test_the_version_follows_every_file(site):
    before = versions.version_of(site)
    assert versions.version_of(site) == before
    (site / "static" / "app.css").write_text("body{color:red}")
    changed = versions.version_of(site)
    assert changed != before
    (site / "runtime.json").write_text('{"built": "later"}')
    assert versions.version_of(site) not in (before, changed)


def test_the_repos_page_names_every_start_up_file_by_its_version(tmp_path):
    """The app's real index.html, pyscript.json and scripts: each file of VERSIONED it names is
    named by its copy, and none is named plainly (a new reference the build missed fails here,
    as the build itself does)."""
    for rel in ("index.html", "pyscript.json", "static", "py/app/main.py"):
        src, dst = ROOT / rel, tmp_path / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
    for rel in ("py/app.zip", "py/imagesynth.zip", "py/pyscript-bytecode.json", "runtime.json"):
        (tmp_path / rel).write_bytes(b"{}")
    (tmp_path / "pyscript").mkdir()
    runtime = versions.version_runtime(tmp_path)
    names = versions.write_versions(tmp_path)
    assert set(names) == set(versions.VERSIONED)
    assert versions.unversioned_references(tmp_path, names) == []
    html = (tmp_path / "index.html").read_text()
    for rel in ("static/app.css", "static/start-pyodide.js", "static/snapshot-restore.js",
                "static/shell.js", "static/idb.js", "py/app/main.py", "py/app.zip", "runtime.json"):
        assert names[rel] in html, rel
    start = (tmp_path / names["static/start-pyodide.js"]).read_text()
    for rel in ("static/snapshot-restore.js", "static/snapshot-worker.js", "py/pyscript-bytecode.json"):
        assert names[rel].rpartition("/")[2] in start, rel
    assert f'"../{runtime}/pyodide/' in start and f'"../{runtime}/pyodide/' in (tmp_path / names["static/snapshot-worker.js"]).read_text()
    assert f'src="{runtime}/core.js"' in html and f'href="{runtime}/pyodide/pyodide.asm.wasm"' in html
