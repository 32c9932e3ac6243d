"""Versioned names for the app's own files and its runtime, so that a returning visit does not
ask for them, and gets the new ones after a new build.

The app's own files were served ``no-cache``, because a new build must reach
the next visit. So every load revalidated each of them, and a warm load waited
for those round trips in its critical path: ``first-run.js`` blocked the parser
in ``<head>`` (it is inline now), the ``start-pyodide.js`` that starts Python was
found only after it, then ``snapshot-restore.js`` and PyScript's bytecode. Measured (warm loads in turn,
one browser): the app ready at 462 ms against the bare ``loadPyodide()`` page's
406 with revalidation, 410 with those files served from the cache.

So the build writes a copy of each such file with the build's version in its
name (``static/start-pyodide.<version>.js``) and points the page at the copies:
``index.html`` (revalidated on every load, so it always names the current
build), ``pyscript.json`` (likewise; it names the interpreter, the zips and
``idb.js``) and the scripts' references to each other. A host may then cache
the copies for good; ``imagesynth serve`` does (``server/static.py``). Names
rather than ``?v=`` queries: PyScript takes its interpreter's URL for a version
string unless it ends in ``.js``. One version for the whole set, a hash of all
their contents, because the scripts name each other in a cycle
(``snapshot-restore.js`` imports ``snapshot-save.js``, which imports it back).
The plain files stay too, for anything else that names them (tests, the
bench). The mask editor's modules are not in the set: the first screen does not
load them, and they are revalidated as before.

The runtime (PyScript, Pyodide, the served wheels: 16 MB) is renamed instead of
copied: ``pyscript/`` becomes ``pyscript.<version>/``, a hash of everything in
it. It used to be cached for a year under its plain name, so after a new pin a
returning visitor kept the old runtime beside the new app (whose bytecode and
snapshot then miss it, and start slowly), and where the cache had dropped some
of its files, old and new Pyodide files could meet, and Python would not start,
reload after reload. Pyodide fetches its files by fixed names
from one folder (``indexURL``), so the folder is what carries the version. A
site with no ``index.html`` (a runtime for someone's own pages) keeps the plain
name, which those pages need to be able to write.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

#: the files a visit loads before Python is ready, relative to the site; not index.html and
#: pyscript.json, which name the others and so must be asked for again on every visit
VERSIONED = (
    "static/app.css",
    "static/icon.svg",
    "static/shell.js",
    "static/start-pyodide.js",
    "static/snapshot-restore.js",
    "static/snapshot-save.js",
    "static/snapshot-worker.js",
    "static/idb.js",
    "py/app/main.py",
    "py/imagesynth.zip",
    "py/app.zip",
    "py/pyscript-bytecode.json",
    "runtime.json",
)
#: the scripts whose references to each other are rewritten (as string literals)
SCRIPTS = tuple(p for p in VERSIONED if p.endswith(".js"))
#: a versioned name: what ``imagesynth serve`` may cache for good
VERSIONED_NAME = re.compile(r"^[^/.]+\.[0-9a-f]{12}\.[a-z0-9]+$")
#: the runtime's folder as the app's sources name it, and as the build serves it (a versioned
#: folder: everything under it may be cached for good)
RUNTIME = "pyscript"
VERSIONED_RUNTIME = re.compile(rf"^{RUNTIME}\.[0-9a-f]{{12}}$")

_ATTR = re.compile(r'\b(href|src)="([^"?#]+)"')


def versioned_name(path: str, version: str) -> str:
    head, _, name = path.rpartition("/")
    stem, _, ext = name.rpartition(".")
    return f"{head}/{stem}.{version}.{ext}" if head else f"{stem}.{version}.{ext}"


def version_of(site: Path, paths=VERSIONED) -> str:
    """12 hex digits of a hash over every present file's path and bytes."""
    h = hashlib.sha256()
    for rel in paths:
        file = site / rel
        if file.is_file():
            h.update(rel.encode() + b"\0" + file.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def _rewrite_script(text: str, names: dict[str, str], script: str) -> str:
    """Each quoted reference to a versioned file, relative to the script's folder."""
    here = script.rpartition("/")[0]
    for rel, new in names.items():
        folder, _, base = rel.rpartition("/")
        new_base = new.rpartition("/")[2]
        if folder == here:
            forms = [f"./{base}", base]
        else:  # one level up and down: ../py/pyscript-bytecode.json from static/
            forms = [f"../{rel}"] if here and "/" not in here else []
        for form in forms:
            new_form = form[: len(form) - len(base)] + new_base
            text = re.sub(r'(["\'`])' + re.escape(form) + r"\1", lambda m: m.group(1) + new_form + m.group(1), text)
    return text


def runtime_dir(site: Path) -> Path:
    """Where a built site holds the runtime: ``pyscript.<version>/``, or ``pyscript/`` in a
    site with no page of its own."""
    found = sorted(p for p in site.iterdir() if p.is_dir() and VERSIONED_RUNTIME.match(p.name))
    return found[0] if found else site / RUNTIME


def _tree_version(folder: Path) -> str:
    h = hashlib.sha256()
    for file in sorted(folder.rglob("*")):
        if file.is_file():
            h.update(file.relative_to(folder).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def point_at_runtime(text: str, new: str) -> str:
    """Quoted references to the runtime's folder from a file one folder down (static/, and the
    bench's pages) pointed at its versioned name."""
    return re.sub(r'(["\'`])\.\./' + RUNTIME + "/", lambda m: f"{m.group(1)}../{new}/", text)


def version_runtime(site: Path) -> str:
    """Rename the runtime's folder by its contents and point index.html and the scripts at it;
    returns its name (``pyscript`` unchanged in a site with no index.html). Before
    ``write_versions``, so that the app's version follows the runtime's."""
    index, runtime = site / "index.html", site / RUNTIME
    if not index.is_file() or not runtime.is_dir():
        return RUNTIME
    name = f"{RUNTIME}.{_tree_version(runtime)}"
    runtime.rename(site / name)
    html = index.read_text(encoding="utf-8")
    html = _ATTR.sub(lambda m: f'{m.group(1)}="{name}/{m.group(2)[len(RUNTIME) + 1:]}"'
                     if m.group(2).startswith(RUNTIME + "/") else m.group(0), html)
    index.write_text(html, encoding="utf-8")
    for rel in SCRIPTS:
        if (site / rel).is_file():
            text = (site / rel).read_text(encoding="utf-8")
            (site / rel).write_text(point_at_runtime(text, name), encoding="utf-8")
    return name


def write_versions(site: Path) -> dict[str, str]:
    """Write the versioned copies and point index.html, pyscript.json and the scripts at them;
    returns {path: versioned path} ({} when the site has no index.html)."""
    index = site / "index.html"
    if not index.is_file():
        return {}
    config_file = site / "pyscript.json"
    config = None
    if config_file.is_file():  # read first: a config that cannot be read stops this before any write
        try:
            config = json.loads(config_file.read_text(encoding="utf-8"))
        except ValueError as e:
            raise ValueError(f"pyscript.json is not valid JSON ({e}); PyScript could not read it either: "
                             f"fix the app's pyscript.json and build again") from None
        if not isinstance(config, dict):
            raise ValueError("pyscript.json is not a JSON object ({...}), which PyScript's config must be: "
                             "fix the app's pyscript.json and build again")
    present = [rel for rel in VERSIONED if (site / rel).is_file()]
    version = version_of(site, present)
    names = {rel: versioned_name(rel, version) for rel in present}

    for rel, new in names.items():
        data = (site / rel).read_bytes()
        if rel in SCRIPTS:
            data = _rewrite_script(data.decode("utf-8"), names, rel).encode("utf-8")
        (site / new).write_bytes(data)

    html = index.read_text(encoding="utf-8")
    html = _ATTR.sub(lambda m: f'{m.group(1)}="{names.get(m.group(2), m.group(2))}"', html)
    index.write_text(html, encoding="utf-8")

    if config is not None:
        def url(value: str) -> str:  # PyScript's config names files as "./path"
            rel = value.removeprefix("./")
            return "./" + names[rel] if rel in names else value

        config_file.write_text(json.dumps(_map_config_urls(config, url), indent=2) + "\n", encoding="utf-8")
    return names


def _map_config_urls(config: dict, url) -> dict:
    """PyScript's config with ``url`` applied wherever it names a file: the interpreter, the
    "files" keys (URLs; the values are where they go in Python's filesystem, unchanged) and
    the "js_modules" keys. The one place that knows where those are, for the rewrite and the
    check."""
    out = dict(config)
    if isinstance(out.get("interpreter"), str):
        out["interpreter"] = url(out["interpreter"])
    if isinstance(out.get("files"), dict):
        out["files"] = {url(k): v for k, v in out["files"].items()}
    if isinstance(out.get("js_modules"), dict):
        out["js_modules"] = {kind: {url(k): v for k, v in mods.items()} if isinstance(mods, dict) else mods
                             for kind, mods in out["js_modules"].items()}
    return out


def unversioned_references(site: Path, names: dict[str, str]) -> list[str]:
    """Where the page still names a versioned file by its plain name (the build checks: such a
    reference is fetched again on every visit, and a module named two ways runs twice)."""
    found = []
    html = (site / "index.html").read_text(encoding="utf-8")
    found += [f"index.html: {m.group(2)}" for m in _ATTR.finditer(html)
              if m.group(2) in names or m.group(2).startswith(RUNTIME + "/")]
    config_file = site / "pyscript.json"
    if config_file.is_file():
        def note(value: str) -> str:
            if value.removeprefix("./") in names:
                found.append(f"pyscript.json: {value}")
            return value

        _map_config_urls(json.loads(config_file.read_text(encoding="utf-8")), note)
    for rel, new in names.items():
        if rel in SCRIPTS:
            text = (site / new).read_text(encoding="utf-8")
            for other in names:
                base = other.rpartition("/")[2]
                if re.search(r'(["\'`])(?:\.{1,2}/)?(?:[\w-]+/)*' + re.escape(base) + r"\1", text):
                    found.append(f"{new}: {base}")
            if re.search(r'(["\'`])(?:\.{1,2}/)?' + RUNTIME + "/", text):
                found.append(f"{new}: {RUNTIME}/")
    return found
