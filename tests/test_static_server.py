"""The app server: MIME types, CSP, caching and 304s, gzip, no listing, no traversal."""

from __future__ import annotations

import gzip
import os
import socket
from pathlib import Path

import httpx
import pytest

from imagesynth.server.csp import FIRST_VISIT_SCRIPT, content_security_policy
from sandbox_testkit import client
from serverfixture import running_server

WASM = b"\x00asm\x01\x00\x00\x00" + bytes(range(256)) * 64


RUNTIME = "pyscript.0123456789ab"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text("<!doctype html><title>app</title>" + "<p>hello</p>" * 200)
    (root / "pyscript.toml").write_text('packages = ["imagesynth"]\n')
    (root / "app.mjs").write_text("export const x = 1;\n" * 100)
    (root / "data.json").write_text('{"a": 1}')
    (root / "static").mkdir()
    (root / "static" / "app.0123456789ab.css").write_text("body{}")  # a build's versioned copy
    (root / "static" / "app.css").write_text("body{}")
    (root / RUNTIME / "pyodide").mkdir(parents=True)  # the runtime as a build names it
    (root / RUNTIME / "core.js").write_text("console.log('core');\n" * 200)
    (root / RUNTIME / "pyodide" / "pyodide.asm.wasm").write_bytes(WASM)
    (root / RUNTIME / "pyodide" / "python_stdlib.zip").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    (root / "pyscript").mkdir()  # a runtime under its plain name (a site with no page of its own)
    (root / "pyscript" / "core.js").write_text("console.log('plain');\n")
    (root / "wheels").mkdir()
    (root / "wheels" / "imagesynth-0.1.0-py3-none-any.whl").write_bytes(b"PK\x03\x04whl")
    (root / "sub").mkdir()
    (root / "sub" / "index.html").write_text("<p>sub</p>")
    (root / "empty").mkdir()
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("secret")
    outside = root.parent / "outside.txt"
    outside.write_text("outside secret")
    os.symlink(outside, root / "link.txt")
    return root


@pytest.fixture(scope="module")
def c(site):
    with client(site) as cl:
        yield cl


@pytest.mark.parametrize("path,ctype", [
    ("/", "text/html"), ("/index.html", "text/html"), ("/app.mjs", "text/javascript"),
    ("/pyscript.toml", "application/toml"), ("/data.json", "application/json"),
    (f"/{RUNTIME}/pyodide/pyodide.asm.wasm", "application/wasm"),
    (f"/{RUNTIME}/pyodide/python_stdlib.zip", "application/zip"),
    ("/wheels/imagesynth-0.1.0-py3-none-any.whl", "application/zip"), (f"/{RUNTIME}/core.js", "text/javascript"),
])
def test_mime_types_and_csp(c, path, ctype):
    r = c.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(ctype)
    assert r.headers["content-security-policy"] == content_security_policy()
    assert r.headers["x-content-type-options"] == "nosniff"


def test_csp_string():
    csp = content_security_policy()
    for part in ("default-src 'self'", f"script-src 'self' {FIRST_VISIT_SCRIPT} 'wasm-unsafe-eval' 'unsafe-eval'",
                 "connect-src 'self' https:", "img-src 'self' data: blob:", "worker-src 'self' blob:",
                 "object-src 'none'", "base-uri 'none'", "style-src 'self' 'unsafe-inline'"):
        assert part in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "http://localhost:9000" in content_security_policy(["http://localhost:9000"])


def test_csp_allows_local_http_servers_but_not_http_in_general():
    connect = content_security_policy().split("connect-src ")[1].split(";")[0].split()
    assert "http://localhost:*" in connect and "http://127.0.0.1:*" in connect
    assert "http:" not in connect and "*" not in connect and "https:" in connect


def test_runtime_is_cached_long_and_app_files_revalidate(c):
    assert "immutable" in c.get(f"/{RUNTIME}/core.js").headers["cache-control"]
    assert "max-age=31536000" in c.get(f"/{RUNTIME}/pyodide/pyodide.asm.wasm").headers["cache-control"]
    for path in ("/", "/app.mjs", "/pyscript.toml", "/static/app.css"):
        assert c.get(path).headers["cache-control"] == "no-cache"


def test_runtime_under_its_plain_name_revalidates(c):
    """Its files can change under the same names with a new pin: a year's cache would keep the
    old ones (build/versions.py)."""
    assert c.get("/pyscript/core.js").headers["cache-control"] == "no-cache"


def test_files_named_with_the_builds_version_are_cached_long(c):
    """build/versions.py: index.html, revalidated, names them; a new build, new names."""
    assert "immutable" in c.get("/static/app.0123456789ab.css").headers["cache-control"]
    assert c.get("/static/app.css?v=0123456789ab").headers["cache-control"] == "no-cache"


def test_304_by_etag_and_by_date(c):
    r = c.get("/app.mjs", headers={"accept-encoding": "identity"})
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    again = c.get("/app.mjs", headers={"if-none-match": etag, "accept-encoding": "identity"})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert c.get("/app.mjs", headers={"if-modified-since": modified, "accept-encoding": "identity"}).status_code == 304
    assert c.get("/app.mjs", headers={"if-none-match": '"other"', "accept-encoding": "identity"}).status_code == 200
    gz = c.get("/app.mjs", headers={"accept-encoding": "gzip"})
    assert gz.headers["etag"] != etag  # a different representation, a different tag
    assert c.get("/app.mjs", headers={"if-none-match": gz.headers["etag"], "accept-encoding": "gzip"}).status_code == 304


def test_gzip_for_text_and_wasm_only(site):
    with running_server(site) as srv:
        for path, raw in ((f"/{RUNTIME}/pyodide/pyodide.asm.wasm", WASM), ("/app.mjs", (site / "app.mjs").read_bytes())):
            r = httpx.get(srv.url + path, headers={"accept-encoding": "gzip"})
            assert r.headers["content-encoding"] == "gzip"
            assert int(r.headers["content-length"]) < len(raw)
            assert r.content == raw  # httpx decodes
            assert "accept-encoding" in r.headers["vary"].lower()
        r = httpx.get(srv.url + "/wheels/imagesynth-0.1.0-py3-none-any.whl", headers={"accept-encoding": "gzip"})
        assert "content-encoding" not in r.headers
        r = httpx.get(srv.url + "/app.mjs", headers={"accept-encoding": "identity"})
        assert "content-encoding" not in r.headers
        with httpx.stream("GET", srv.url + "/index.html", headers={"accept-encoding": "gzip"}) as r:
            wire = b"".join(r.iter_raw())
        assert r.headers["content-encoding"] == "gzip"
        assert gzip.decompress(wire) == (site / "index.html").read_bytes()


def test_sse_is_not_gzipped(site):
    with running_server(site) as srv:
        with httpx.stream("POST", srv.api_base + "/images/generations", headers={
                "Authorization": "Bearer sk-sandbox", "accept-encoding": "gzip"},
                json={"model": "gpt-image-1", "prompt": "x", "stream": True, "quality": "low"}) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in r.headers


def test_head(c):
    r = c.head("/app.mjs")
    assert r.status_code == 200 and r.content == b""


def test_no_listing_no_dotfiles_no_escape(c):
    assert c.get("/empty/").status_code == 404
    assert c.get("/wheels/").status_code == 404
    assert c.get("/.git/config").status_code == 404
    assert c.get("/link.txt").status_code == 404  # a symlink out of the site
    assert c.get("/nope.js").status_code == 404
    assert c.post("/index.html").status_code == 405


def test_directory_index_and_redirect(c):
    assert c.get("/sub/").text == "<p>sub</p>"
    r = c.get("/sub", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"].endswith("/sub/")


@pytest.mark.parametrize("raw_path", [b"/../outside.txt", b"/%2e%2e/outside.txt", b"/sub/../../outside.txt",
                                      b"/%2e%2e%2foutside.txt", b"/..%5coutside.txt", b"//etc/passwd",
                                      b"/%00index.html"])
def test_no_path_traversal_on_the_wire(site, raw_path):
    with running_server(site) as srv:
        port = int(srv.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET " + raw_path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        assert b"outside secret" not in out and b"root:" not in out
        assert out.split(b"\r\n")[0].split()[1] in (b"400", b"404"), out[:100]


def test_not_built_page_and_no_sandbox(tmp_path):
    with client(None) as cl:
        r = cl.get("/")
        assert r.status_code == 200 and "imagesynth build site" in r.text
        assert cl.get("/app.mjs").status_code == 404
        assert cl.get("/v1/models", headers={"Authorization": "Bearer sk-sandbox"}).status_code == 200
    with client(None, sandbox=False) as cl:
        assert cl.app.state.sandbox is None
        r = cl.post("/v1/images/generations", json={"prompt": "x"})
        assert r.status_code in (404, 405)


def test_big_files_are_gzipped_as_the_server_starts(tmp_path):
    """The runtime's wasm and big JS are compressed in the background when the site is
    served, not during the first visitor's load; small files and non-text ones are not."""
    from imagesynth.server import static

    (tmp_path / "big.mjs").write_text("export const x = 1;\n" * 5000)  # ~100 KB
    (tmp_path / "small.js").write_text("console.log(1);\n" * 200)
    (tmp_path / "big.whl").write_bytes(b"PK" + bytes(200_000))
    site = static.StaticSite(tmp_path)
    assert site.gzipped_ahead.wait(10)
    cached = {Path(key[0]).name for key in site.gzip._items}
    assert "big.mjs" in cached
    assert not {"small.js", "big.whl"} & cached


def test_a_file_being_compressed_holds_up_no_other_request(tmp_path, monkeypatch):
    """gzip runs off the event loop: while one file is being compressed (the 10 MB wasm takes
    ~0.35 s), other files and the sandbox API still answer."""
    import threading

    from imagesynth.server import static

    (tmp_path / "slow.js").write_text("// slow\n" + "let a = 1;\n" * 1000)
    (tmp_path / "index.html").write_text("<!doctype html><title>t</title>")
    release, started = threading.Event(), threading.Event()
    compress = gzip.compress

    def held(data, *args, **kwargs):
        if data.startswith(b"// slow"):
            started.set()
            release.wait(20)
        return compress(data, *args, **kwargs)

    monkeypatch.setattr(static.gzip, "compress", held)
    with running_server(tmp_path) as srv:
        slow: dict = {}
        t = threading.Thread(target=lambda: slow.update(
            r=httpx.get(srv.url + "/slow.js", headers={"accept-encoding": "gzip"}, timeout=30)))
        t.start()
        try:
            assert started.wait(10)
            assert httpx.get(srv.url + "/index.html", timeout=5).status_code == 200
            assert httpx.get(srv.api_base + "/models", headers={"Authorization": "Bearer sk-sandbox"},
                             timeout=5).status_code == 200
        finally:
            release.set()
            t.join(30)
        assert slow["r"].status_code == 200 and slow["r"].text.startswith("// slow")
