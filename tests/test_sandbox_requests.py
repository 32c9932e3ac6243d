"""Bad requests, auth, CORS, headers and body limits: each answered with the right
status and a contract-shaped error, and the server never hangs or crashes."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from sandbox_testkit import AUTH, client, error_of, picture, png
from serverfixture import running_server

GEN = "/v1/images/generations"


@pytest.fixture(scope="module")
def c():
    with client(max_body=2 * 1024 * 1024) as cl:
        yield cl


def gen(c, body, **headers):
    return c.post(GEN, json=body, headers={**AUTH, **headers})


# --- auth ----------------------------------------------------------------------------------------
def test_auth(c):
    body = {"model": "gpt-image-1", "prompt": "x", "quality": "low"}
    err = error_of(c.post(GEN, json=body), 401)
    assert err["type"] == "invalid_request_error" and "API key" in err["message"]
    err = error_of(c.post(GEN, json=body, headers={"Authorization": "Bearer sk-wrong-key-1234"}), 401)
    assert (err["type"], err["code"]) == ("invalid_request_error", "invalid_api_key")
    assert "sk-wrong" not in err["message"]  # never echo a key
    assert error_of(c.post(GEN, json=body, headers={"Authorization": "Basic sk-sandbox"}), 401)
    assert c.post(GEN, json=body, headers=AUTH).status_code == 200


def test_custom_sandbox_key():
    with client(sandbox_key="sk-other") as cl:
        body = {"model": "gpt-image-1", "prompt": "x", "quality": "low"}
        assert cl.post(GEN, json=body, headers=AUTH).status_code == 401
        assert cl.post(GEN, json=body, headers={"Authorization": "Bearer sk-other"}).status_code == 200


# --- headers, CORS --------------------------------------------------------------------------------
def test_request_id_and_processing_ms_on_every_answer(c):
    for r in (gen(c, {"model": "gpt-image-1", "prompt": "x", "quality": "low"}), gen(c, {}), c.post(GEN)):
        assert r.headers["x-request-id"].startswith("req_") and len(r.headers["x-request-id"]) > 20
        assert int(r.headers["openai-processing-ms"]) >= 0
    assert gen(c, {}).headers["x-request-id"] != gen(c, {}).headers["x-request-id"]


def test_cors_preflight(c):
    r = c.options(GEN, headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                                "Access-Control-Request-Headers": "authorization, content-type, x-sandbox-fault, "
                                                                  "openai-organization, openai-project"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    allowed = r.headers["access-control-allow-headers"].lower()
    for h in ("authorization", "content-type", "x-sandbox-fault", "openai-organization", "openai-project"):
        assert h in allowed
    assert "POST" in r.headers["access-control-allow-methods"]


def test_cors_headers_on_answers_and_errors(c):
    origin = {"Origin": "https://app.example"}
    for r in (gen(c, {"model": "gpt-image-1", "prompt": "x", "quality": "low"}, **origin),
              c.post(GEN, json={}, headers=origin),
              gen(c, {"model": "gpt-image-1", "prompt": "x [[sandbox:rate_limit]]"}, **origin)):
        assert r.headers["access-control-allow-origin"] == "*"
        exposed = r.headers["access-control-expose-headers"].lower()
        assert {"x-request-id", "openai-processing-ms", "retry-after"} <= {h.strip() for h in exposed.split(",")}


# --- bad requests ------------------------------------------------------------------------------------
@pytest.mark.parametrize("body,status,param,code", [
    ({"model": "gpt-image-1"}, 400, "prompt", "missing_required_parameter"),
    ({"model": "gpt-image-1", "prompt": ""}, 400, "prompt", "empty_string"),
    ({"model": "gpt-image-1", "prompt": 5}, 400, "prompt", "invalid_type"),
    ({"model": "gpt-image-1", "prompt": "x", "n": "2"}, 400, "n", "invalid_type"),
    ({"model": "gpt-image-1", "prompt": "x", "n": True}, 400, "n", "invalid_type"),
    ({"model": "gpt-image-1", "prompt": "x", "n": 0}, 400, "n", "integer_below_min_value"),
    ({"model": "gpt-image-1", "prompt": "x", "n": 11}, 400, "n", "integer_above_max_value"),
    ({"model": "gpt-image-1", "prompt": "x", "stream": "yes"}, 400, "stream", "invalid_type"),
    ({"model": "gpt-image-1", "prompt": "x", "size": 1024}, 400, "size", "invalid_type"),
    ({"model": "gpt-image-1", "prompt": "x", "quality": "ultra"}, 400, "quality", "invalid_value"),
    ({"model": "gpt-image-1", "prompt": "x", "colour": "red"}, 400, "colour", "unknown_parameter"),
    ({"model": 7, "prompt": "x"}, 400, "model", "invalid_type"),
    ({"model": "gpt-image-9", "prompt": "x"}, 404, "model", "model_not_found"),
    ({"model": "dall-e-2", "prompt": "x" * 1001}, 400, "prompt", "string_above_max_length"),
    ({"model": "dall-e-3", "prompt": "x", "n": 2}, 400, "n", "integer_above_max_value"),
])
def test_bad_json_requests(c, body, status, param, code):
    err = error_of(gen(c, body), status)
    assert (err["param"], err["code"]) == (param, code)


def test_nulls_mean_default(c):
    r = gen(c, {"model": "gpt-image-1", "prompt": "x", "quality": "low", "n": None, "size": None})
    assert r.status_code == 200


@pytest.mark.parametrize("raw", [b"", b"{", b"[1, 2]", b"null", b"\xff\xfe"])
def test_unparseable_json(c, raw):
    err = error_of(c.post(GEN, content=raw, headers={**AUTH, "content-type": "application/json"}), 400)
    assert "JSON" in err["message"]


def test_form_fields_are_typed(c):
    files = [("image", ("a.png", png(picture()), "image/png"))]
    for field, value, code in (("n", "abc", "invalid_type"), ("stream", "maybe", "invalid_type"),
                               ("n", "99", "integer_above_max_value")):
        r = c.post("/v1/images/edits", files=files, data={"model": "gpt-image-1", "prompt": "x", field: value},
                   headers=AUTH)
        err = error_of(r, 400)
        assert (err["param"], err["code"]) == (field, code)


def test_truncated_and_garbage_multipart(c):
    body = (b'--XX\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhello\r\n--XX\r\n'
            b'Content-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
            + png(picture())[:300])
    headers = {**AUTH, "content-type": "multipart/form-data; boundary=XX"}
    err = error_of(c.post("/v1/images/edits", content=body, headers=headers), 400)
    assert err["code"] == "invalid_multipart" and "truncated" in err["message"]
    assert error_of(c.post("/v1/images/edits", content=b"garbage--XX--", headers=headers), 400)
    err = error_of(c.post("/v1/images/edits", content=b"x", headers={**AUTH, "content-type": "multipart/form-data"}),
                   400)
    assert err["code"] == "invalid_multipart"
    err = error_of(c.post("/v1/images/edits", content=b"x", headers={**AUTH, "content-type": "text/plain"}), 400)
    assert "Content-Type" in err["message"]


def test_unknown_paths_and_methods(c):
    err = error_of(c.post("/v1/images/nope", headers=AUTH), 404)
    assert "Invalid URL" in err["message"]
    assert error_of(c.get(GEN, headers=AUTH), 405)


# --- body size -------------------------------------------------------------------------------------
def test_too_large_by_content_length(c):
    big = b"x" * (2 * 1024 * 1024 + 10)
    err = error_of(c.post(GEN, content=big, headers={**AUTH, "content-type": "application/json"}), 413)
    assert err["code"] == "request_too_large"


def test_too_large_chunked(c):
    def chunks():
        for _ in range(40):
            yield b"x" * 65536

    r = c.post("/v1/images/edits", content=chunks(), headers={**AUTH, "content-type": "multipart/form-data; boundary=X"})
    assert error_of(r, 413)


def _raw_request(port: int, head: bytes, body: bytes = b"", timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head + body)
        out = b""
        try:
            while True:  # the server closes the connection after a 413
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except TimeoutError:
            pass
        return out


def test_413_before_reading_the_body_on_a_real_socket():
    """Declare 1 GB, send a few bytes: the answer comes at once, without waiting for the rest."""
    with running_server(max_body=1024 * 1024) as srv:
        port = int(srv.url.rsplit(":", 1)[1])
        t = time.perf_counter()
        out = _raw_request(port, b"POST /v1/images/edits HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-sandbox\r\n"
                                 b"Content-Type: multipart/form-data; boundary=X\r\n"
                                 b"Content-Length: 1000000000\r\n\r\n", b"--X\r\n")
        assert out.startswith(b"HTTP/1.1 413"), out[:200]
        assert b"request_too_large" in out
        assert time.perf_counter() - t < 3
        # and the server still answers
        assert httpx.get(srv.api_base + "/models", headers=AUTH).status_code == 200


def test_truncated_body_on_a_real_socket_does_not_hang_the_server():
    with running_server() as srv:
        port = int(srv.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"POST /v1/images/generations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-sandbox\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"prompt\": ")
            s.shutdown(socket.SHUT_WR)  # the client gives up half-way
            s.recv(1024)
        r = httpx.post(srv.api_base + "/images/generations", headers=AUTH, timeout=30,
                       json={"model": "gpt-image-1", "prompt": "still alive", "quality": "low"})
        assert r.status_code == 200
