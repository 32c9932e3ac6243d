"""Generations against the sandbox: every model profile of the table, answers
validated against the contract, pictures deterministic and request-dependent."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from contract import validate_against
from imagesynth.models import MODELS
from sandbox_testkit import AUTH, client, decode, error_of, images_of, mean_diff, parse_sse

GEN = "/v1/images/generations"
GENERATORS = [m for m in MODELS.values() if m.generate]


@pytest.fixture(scope="module")
def c():
    with client() as cl:
        yield cl


def post(c, **body):
    return c.post(GEN, json=body, headers=AUTH)


@pytest.mark.parametrize("profile", GENERATORS, ids=lambda p: p.id)
def test_each_model_generates_with_its_defaults(c, profile):
    r = post(c, model=profile.id, prompt="a lighthouse at dusk", response_format="b64_json"
             if profile.response_format else None)
    assert r.status_code == 200, r.text
    body = r.json()
    validate_against("ImagesResponse", body)
    assert len(body["data"]) == 1
    assert ("revised_prompt" in body["data"][0]) == profile.revised_prompt
    assert ("usage" in body) == profile.reports_usage
    if profile.reports_usage:
        assert body["quality"] in ("low", "medium", "high") and body["background"] in ("opaque", "transparent")
        assert body["usage"]["output_tokens"] > 0
    img = decode(body["data"][0]["b64_json"])
    assert img.format == "PNG"
    assert "sandbox" in img.info.get("Software", "")


@pytest.mark.parametrize("profile", GENERATORS, ids=lambda p: p.id)
def test_every_fixed_size_of_the_table(c, profile):
    extra = {"response_format": "b64_json"} if profile.response_format else {}
    for size in profile.sizes.fixed:
        r = post(c, model=profile.id, prompt="a cat", size=size, **extra)
        (img,) = images_of(r)
        assert f"{img.width}x{img.height}" == size


@pytest.mark.parametrize("profile", GENERATORS, ids=lambda p: p.id)
def test_sizes_the_table_does_not_list_are_refused(c, profile):
    err = error_of(post(c, model=profile.id, prompt="a cat", size="100x100"), 400)
    assert err["param"] == "size" and err["code"] == "invalid_value"
    auto = post(c, model=profile.id, prompt="a cat", size="auto")
    if profile.sizes.auto:
        assert auto.status_code == 200
    else:
        assert error_of(auto, 400)["param"] == "size"


def test_arbitrary_sizes_follow_the_rule_in_the_table(c):
    arbitrary = [m for m in GENERATORS if m.sizes.arbitrary]
    assert arbitrary, "the table has a model with arbitrary sizes"
    m = arbitrary[0]
    (img,) = images_of(post(c, model=m.id, prompt="wide", size="1536x864"))
    assert img.size == (1536, 864)
    r = post(c, model=m.id, prompt="wide", size="1536x864")
    assert "size" not in r.json()  # the contract's enum has only the three standard sizes
    for bad in ("1000x864", "3200x800", "512x512", "4096x2160"):
        assert error_of(post(c, model=m.id, prompt="x", size=bad), 400)["param"] == "size", bad
    non_arbitrary = next(p for p in GENERATORS if not p.sizes.arbitrary and p.sizes.auto)
    assert error_of(post(c, model=non_arbitrary.id, prompt="x", size="1536x864"), 400)["param"] == "size"


def test_n_images_each_different(c):
    r = post(c, model="gpt-image-1", prompt="three birds", n=3, size="1024x1024", quality="low")
    imgs = images_of(r)
    assert len(imgs) == 3
    assert mean_diff(imgs[0], imgs[1]) > 10 and mean_diff(imgs[1], imgs[2]) > 10


def test_n_above_the_models_limit_is_refused(c):
    for m in GENERATORS:
        err = error_of(post(c, model=m.id, prompt="x", n=m.max_n + 1), 400)
        assert err["param"] == "n" and err["code"] == "integer_above_max_value"


def test_deterministic_same_request_same_pixels(c):
    a = post(c, model="gpt-image-1.5", prompt="a red fox in snow", size="1024x1536")
    b = post(c, model="gpt-image-1.5", prompt="a red fox in snow", size="1024x1536")
    assert a.json()["data"][0]["b64_json"] == b.json()["data"][0]["b64_json"]


def test_prompt_and_size_visibly_change_the_picture(c):
    (fox,) = images_of(post(c, model="gpt-image-1", prompt="a red fox in snow"))
    (whale,) = images_of(post(c, model="gpt-image-1", prompt="a blue whale"))
    assert mean_diff(fox, whale) > 15
    (wide,) = images_of(post(c, model="gpt-image-1", prompt="a red fox in snow", size="1536x1024"))
    assert mean_diff(fox, wide) > 15


def test_transparent_background_and_output_formats(c):
    (img,) = images_of(post(c, model="gpt-image-1", prompt="a sticker", background="transparent"))
    assert img.mode == "RGBA" and img.getextrema()[3][0] == 0
    for fmt, pil in (("jpeg", "JPEG"), ("webp", "WEBP")):
        r = post(c, model="gpt-image-1", prompt="a photo", output_format=fmt, output_compression=60)
        body = r.json()
        validate_against("ImagesResponse", body)
        assert body["output_format"] == fmt
        assert decode(body["data"][0]["b64_json"]).format == pil
    err = error_of(post(c, model="gpt-image-1", prompt="x", background="transparent", output_format="jpeg"), 400)
    assert err["param"] == "background"
    err = error_of(post(c, model="gpt-image-1", prompt="x", output_format="png", output_compression=50), 400)
    assert err["param"] == "output_compression"


def test_response_format_url_serves_the_image_without_auth(c):
    r = post(c, model="dall-e-2", prompt="a kite", n=2, size="256x256")
    body = r.json()
    validate_against("ImagesResponse", body)
    urls = [d["url"] for d in body["data"]]
    assert len(set(urls)) == 2
    for url in urls:
        name = url.rsplit("/", 1)[1]
        assert len(name.split(".")[0]) >= 40  # unguessable: 256 random bits
        got = c.get(url)  # no Authorization header
        assert got.status_code == 200 and got.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(got.content)).size == (256, 256)
    assert error_of(c.get("/v1/sandbox/images/not-a-real-id.png"), 404)
    # dall-e-3 defaults to url too; GPT models always answer b64_json and refuse response_format
    assert "url" in post(c, model="dall-e-3", prompt="x").json()["data"][0]
    err = error_of(post(c, model="gpt-image-1", prompt="x", response_format="url"), 400)
    assert err["code"] == "unknown_parameter" and err["param"] == "response_format"


def test_url_expiry():
    with client(base_url_for_images="http://sandbox.example") as cl:
        store = cl.app.state.sandbox.store
        r = cl.post(GEN, json={"model": "dall-e-2", "prompt": "x", "size": "256x256"}, headers=AUTH)
        url = r.json()["data"][0]["url"]
        assert url.startswith("http://sandbox.example/v1/sandbox/images/")
        path = url.removeprefix("http://sandbox.example")
        assert cl.get(path).status_code == 200
        for item in store._items.values():
            item.expires = 0
        assert cl.get(path).status_code == 404


def test_parameters_of_other_models_are_refused(c):
    err = error_of(post(c, model="gpt-image-1", prompt="x", style="vivid"), 400)
    assert (err["code"], err["param"]) == ("unknown_parameter", "style")
    err = error_of(post(c, model="dall-e-2", prompt="x", stream=True), 400)
    assert err["param"] == "stream"
    (img,) = images_of(post(c, model="dall-e-3", prompt="x", style="natural", quality="hd",
                            response_format="b64_json"))
    assert img.size == (1024, 1024)
    err = error_of(post(c, model="dall-e-3", prompt="x", style="weird"), 400)
    assert err["param"] == "style" and err["code"] == "invalid_value"


def test_default_model_follows_the_contract(c):
    # no model: dall-e-2 (url), unless a GPT-only parameter is used
    assert "url" in post(c, prompt="x", size="256x256").json()["data"][0]
    body = post(c, prompt="x", output_format="webp").json()
    validate_against("ImagesResponse", body)
    assert "usage" in body and "b64_json" in body["data"][0]


# --- streaming ------------------------------------------------------------------------------------
@pytest.mark.parametrize("partials", [0, 1, 2, 3])
def test_streaming_events_follow_the_contract(c, partials):
    r = post(c, model="gpt-image-1", prompt="a boat", stream=True, partial_images=partials, quality="low")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    names = [e for e, _ in events]
    assert names == ["image_generation.partial_image"] * partials + ["image_generation.completed"]
    for name, data in events:
        assert data["type"] == name
        validate_against("ImageGenStreamEvent", data)
        validate_against("ImageGenPartialImageEvent" if "partial" in name else "ImageGenCompletedEvent", data)
    assert [d["partial_image_index"] for _, d in events[:-1]] == list(range(partials))
    final = decode(events[-1][1]["b64_json"])
    (plain,) = images_of(post(c, model="gpt-image-1", prompt="a boat", quality="low"))
    assert final.tobytes() == plain.tobytes()  # the stream ends in the same picture
    if partials:
        assert mean_diff(decode(events[0][1]["b64_json"]), final) > 0


def test_streaming_arbitrary_size_reports_auto(c):
    events = parse_sse(post(c, model="gpt-image-2", prompt="x", stream=True, size="1536x864").text)
    validate_against("ImageGenCompletedEvent", events[-1][1])
    assert events[-1][1]["size"] == "auto"
    assert decode(events[-1][1]["b64_json"]).size == (1536, 864)


def test_streaming_is_refused_by_models_without_it(c):
    for m in GENERATORS:
        if not m.streaming:
            assert error_of(post(c, model=m.id, prompt="x", stream=True), 400)["param"] == "stream"


def test_partial_images_above_three_refused(c):
    err = error_of(post(c, model="gpt-image-1", prompt="x", stream=True, partial_images=4), 400)
    assert err["param"] == "partial_images"


def test_snapshot_ids_behave_as_their_model(c):
    (img,) = images_of(post(c, model="gpt-image-2-2026-04-21", prompt="x", size="1536x864"))
    assert img.size == (1536, 864)


def test_models_endpoint_lists_the_table(c):
    r = c.get("/v1/models", headers=AUTH)
    assert r.status_code == 200
    ids = [m["id"] for m in r.json()["data"]]
    assert ids == list(MODELS)
    assert r.json()["object"] == "list"
    assert c.get("/v1/models/gpt-image-1", headers=AUTH).json()["id"] == "gpt-image-1"
    assert error_of(c.get("/v1/models/nope", headers=AUTH), 404)["code"] == "model_not_found"
    assert error_of(c.get("/v1/models"), 401)


def test_b64_is_plain_base64(c):
    body = post(c, model="gpt-image-1-mini", prompt="x", quality="low").json()
    raw = base64.b64decode(body["data"][0]["b64_json"], validate=True)
    assert raw.startswith(b"\x89PNG")
