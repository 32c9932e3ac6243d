"""Fault injection: each fault by prompt marker and by header, ``:N`` counting, slowness, time-outs."""

from __future__ import annotations

import time

import httpx
import pytest

from contract import validate_against
from sandbox_testkit import AUTH, client, error_of, parse_sse
from serverfixture import running_server

GEN = "/v1/images/generations"


@pytest.fixture(scope="module")
def c():
    with client(retry_after=2) as cl:
        yield cl


def gen(c, prompt, header=None, **kw):
    headers = {**AUTH, **({"X-Sandbox-Fault": header} if header else {})}
    return c.post(GEN, json={"model": "gpt-image-1", "prompt": prompt, "quality": "low", **kw}, headers=headers)


EXPECTED = {
    "rate_limit": (429, "rate_limit_exceeded", "requests", None),
    "quota": (429, "insufficient_quota", "insufficient_quota", None),
    "server_error": (500, None, "server_error", None),
    "overloaded": (503, "overloaded", "server_error", None),
    "org_verification": (403, None, "invalid_request_error", None),
    "moderation_input": (400, "moderation_blocked", "image_generation_user_error", "prompt"),
    "moderation_output": (400, "moderation_blocked", "image_generation_user_error", None),
}


@pytest.mark.parametrize("fault", list(EXPECTED))
@pytest.mark.parametrize("how", ["prompt", "header"])
def test_each_fault(c, fault, how):
    prompt = f"fault test {fault} {how}"
    r = gen(c, prompt + f" [[sandbox:{fault}]]") if how == "prompt" else gen(c, prompt, fault)
    status, code, type_, param = EXPECTED[fault]
    err = error_of(r, status)
    assert (err["code"], err["type"], err["param"]) == (code, type_, param)
    assert r.headers["x-request-id"].startswith("req_")
    if fault == "rate_limit":
        assert r.headers["retry-after"] == "2"
    if fault == "org_verification":
        assert "verified" in err["message"] and "gpt-image-1" in err["message"]
    if fault == "moderation_input":
        assert err["message"].startswith("Your request was rejected by the safety system")
        assert r.headers["x-request-id"] in err["message"]
    if fault == "moderation_output":
        assert "generated image was rejected by the safety system" in err["message"]


def test_fault_with_count_fails_only_the_first_n_times_per_prompt(c):
    p = "count me [[sandbox:server_error:2]]"
    assert [gen(c, p).status_code for _ in range(4)] == [500, 500, 200, 200]
    # another prompt has its own count
    assert gen(c, "other prompt [[sandbox:server_error:2]]").status_code == 500
    # header faults count per prompt too
    assert [gen(c, "hdr", "rate_limit:1").status_code for _ in range(2)] == [429, 200]
    c.app.state.sandbox.faults.reset()
    assert gen(c, p).status_code == 500


def test_slow(c):
    t = time.perf_counter()
    assert gen(c, "slow one [[sandbox:slow:0.6]]").status_code == 200
    assert time.perf_counter() - t >= 0.6
    t = time.perf_counter()
    assert [gen(c, "slow twice", "slow:0.3:1").status_code for _ in range(2)] == [200, 200]
    assert 0.3 <= time.perf_counter() - t < 3


def test_stream_error_sends_an_error_event_mid_stream(c):
    r = gen(c, "stream err [[sandbox:stream_error]]", stream=True, partial_images=2)
    assert r.status_code == 200
    events = parse_sse(r.text)
    assert [e for e, _ in events] == ["image_generation.partial_image", "error"]
    validate_against("ImageGenPartialImageEvent", events[0][1])
    err = events[1][1]["error"]
    assert err["type"] == "server_error" and set(err) == {"message", "type", "param", "code"}
    # without streaming the same fault is a plain 500
    assert error_of(gen(c, "stream err plain [[sandbox:stream_error]]"), 500)


def test_unknown_or_malformed_faults_are_loud(c):
    err = error_of(gen(c, "x", "explode"), 400)
    assert "explode" in err["message"]
    assert error_of(gen(c, "x [[sandbox:slow]]"), 400)
    assert error_of(gen(c, "x [[sandbox:rate_limit:many]]"), 400)


def test_several_faults_at_once(c):
    r = gen(c, "both [[sandbox:slow:0.2]] [[sandbox:quota]]")
    assert error_of(r, 429)["code"] == "insufficient_quota"


def test_faults_work_for_edits_and_variations(c):
    from sandbox_testkit import picture, png

    r = c.post("/v1/images/edits", files=[("image", ("a.png", png(picture()), "image/png"))],
               data={"model": "gpt-image-1", "prompt": "x [[sandbox:org_verification]]"}, headers=AUTH)
    assert error_of(r, 403)
    r = c.post("/v1/images/variations", files=[("image", ("a.png", png(picture()), "image/png"))],
               headers={**AUTH, "X-Sandbox-Fault": "overloaded"})
    assert error_of(r, 503)["code"] == "overloaded"


def test_timeout_holds_until_the_client_gives_up():
    with running_server(timeout_cap=30) as srv:
        t = time.perf_counter()
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(srv.api_base + "/images/generations", headers=AUTH, timeout=httpx.Timeout(5, read=1.0),
                       json={"model": "gpt-image-1", "prompt": "wait [[sandbox:timeout]]"})
        assert 0.9 < time.perf_counter() - t < 5
        # the server is still fine afterwards
        r = httpx.post(srv.api_base + "/images/generations", headers=AUTH, timeout=30,
                       json={"model": "gpt-image-1", "prompt": "after", "quality": "low"})
        assert r.status_code == 200


def test_timeout_gives_up_after_its_cap():
    with running_server(timeout_cap=0.5) as srv:
        r = httpx.post(srv.api_base + "/images/generations", headers=AUTH, timeout=10,
                       json={"model": "gpt-image-1", "prompt": "wait [[sandbox:timeout]]"})
        assert error_of(r, 504)["code"] == "timeout"
