"""The self-hosted runtime works in a browser: PyScript 0.7.31 + local Pyodide load,
the served wheels pass their lock-file hashes, and the imagesynth core imports —
with no request leaving localhost (the ``context`` guard)."""

from __future__ import annotations

import shutil
import time

import pytest

from harness import FIXTURES, screenshot, start_static_server

LOAD_BOUND_S = 30.0  # seen 1.5-3 s on a 2-core machine; generous for CI


@pytest.fixture(scope="module")
def smoke_server(tmp_path_factory):
    """A site with the runtime only (no app) and the smoke pages at its root."""
    from imagesynth.build.cli import build_site

    root = tmp_path_factory.mktemp("smoke")
    empty_app = root / "no-app"
    empty_app.mkdir()
    site = root / "site"
    build_site(site, app_root=empty_app, log=lambda m: None)
    for f in (FIXTURES / "smoke").iterdir():
        if f.is_file() and f.suffix in (".html", ".toml", ".py"):
            shutil.copy2(f, site / f.name)
    srv = start_static_server(site)
    yield srv
    srv.stop()


def _load(page, url: str) -> tuple[float, str]:
    t0 = time.monotonic()
    page.goto(url)
    page.wait_for_selector("#out[data-ready]", timeout=LOAD_BOUND_S * 1000)
    return time.monotonic() - t0, page.inner_text("#out")


@pytest.mark.parametrize("variant", ["interpreter", "offline"])
def test_core_imports_in_pyscript(page, context, console_errors, smoke_server, variant):
    url = f"{smoke_server.url}/smoke-{variant}.html"
    secs, text = _load(page, url)
    assert text.startswith("OK python=3.14"), text
    assert "core=imagesynth.models" in text
    built_bytecode = page.request.get(f"{smoke_server.url}/runtime.json").json()["bytecode"]
    assert built_bytecode is bool(shutil.which("node") or shutil.which("nodejs"))
    assert ("pyc=unchecked-hash" in text) is built_bytecode, text  # the build's pyc was what Python used
    assert secs < LOAD_BOUND_S
    screenshot(page, f"runtime-smoke-{variant}")

    # Second load: PyScript now takes the package set from its IndexedDB cache.
    secs2, text2 = _load(page, url)
    assert text2 == text

    assert not console_errors, "\n".join(map(str, console_errors))
    fetched = {u.rsplit("/", 1)[-1] for u in context.requests}
    assert {"pyodide.asm.wasm", "imagesynth.zip", "pyodide-lock.json"} <= fetched
    print(f"\nsmoke-{variant}: first load {secs:.2f} s, reload {secs2:.2f} s")


def test_unserved_package_fails_locally(page, context, console_errors, smoke_server):
    """A package the site does not serve fails at once with a local 404 and never
    sends the page to pypi.org (the guard would fail this test)."""
    secs, text = _load(page, f"{smoke_server.url}/smoke-unserved.html")
    assert text.startswith("OK python=3.14")
    assert any("numpy" in str(e) for e in console_errors), console_errors
    assert secs < LOAD_BOUND_S


def test_runtime_json_is_served(page, smoke_server):
    info = page.request.get(f"{smoke_server.url}/runtime.json").json()
    assert info["pyscript"] == "0.7.31"
    assert info["pyodide"].startswith("314.0.")
    assert isinstance(info["pillow"], bool)
    assert info["imaging"] in ("pillow", "canvas")
