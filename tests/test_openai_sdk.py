"""Compatibility proof: the official ``openai`` SDK, pointed at a real sandbox
server on loopback, works and raises its own exceptions on the matching faults."""

from __future__ import annotations

import base64
import io

import openai
import pytest
from PIL import Image

from sandbox_testkit import mask_png, picture, png
from serverfixture import sandbox_server  # noqa: F401  (the fixture)


@pytest.fixture(scope="module")
def sdk(sandbox_server):  # noqa: F811
    return openai.OpenAI(base_url=sandbox_server.api_base, api_key=sandbox_server.key, max_retries=0, timeout=60)


def _img(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def test_generate(sdk):
    res = sdk.images.generate(model="gpt-image-1", prompt="a lighthouse", size="1536x1024", quality="low", n=2)
    assert len(res.data) == 2
    assert _img(res.data[0].b64_json).size == (1536, 1024)
    assert res.usage.output_tokens > 0 and res.size == "1536x1024" and res.quality == "low"


def test_generate_url_dalle(sdk, sandbox_server):  # noqa: F811
    res = sdk.images.generate(model="dall-e-3", prompt="a kite", response_format="url")
    assert res.data[0].url.startswith(sandbox_server.url)
    assert res.data[0].revised_prompt


def test_generate_streaming(sdk):
    stream = sdk.images.generate(model="gpt-image-1.5", prompt="a harbour", stream=True, partial_images=2,
                                 quality="low")
    events = list(stream)
    assert [e.type for e in events] == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    assert _img(events[-1].b64_json).size == (1024, 1024)
    assert events[-1].usage.total_tokens > 0


def test_edit_with_and_without_mask(sdk):
    src = png(picture((1024, 1024)))
    res = sdk.images.edit(model="gpt-image-1", image=("src.png", src, "image/png"), prompt="add a hat",
                          mask=("mask.png", mask_png((1024, 1024), (100, 100, 400, 400)), "image/png"))
    out = _img(res.data[0].b64_json).convert("RGB")
    orig = picture((1024, 1024))
    assert out.crop((500, 500, 1024, 1024)).tobytes() == orig.crop((500, 500, 1024, 1024)).tobytes()
    res = sdk.images.edit(model="gpt-image-1", image=[("a.png", src, "image/png"), ("b.png", src, "image/png")],
                          prompt="combine")
    assert _img(res.data[0].b64_json).size == (1024, 1024)
    dalle = picture((256, 256), "RGBA")
    dalle.paste((0, 0, 0, 0), (0, 0, 100, 100))
    res = sdk.images.edit(model="dall-e-2", image=("d.png", png(dalle), "image/png"), prompt="fill",
                          size="256x256", response_format="b64_json")
    assert _img(res.data[0].b64_json).size == (256, 256)


def test_edit_streaming(sdk):
    stream = sdk.images.edit(model="gpt-image-1", image=("src.png", png(picture((1024, 1024))), "image/png"),
                             prompt="x", stream=True, partial_images=1)
    assert [e.type for e in stream] == ["image_edit.partial_image", "image_edit.completed"]


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_create_variation(sdk):
    res = sdk.images.create_variation(model="dall-e-2", image=("r.png", png(picture((512, 512))), "image/png"),
                                      n=2, size="512x512", response_format="b64_json")
    assert len(res.data) == 2 and _img(res.data[1].b64_json).size == (512, 512)


def test_authentication_error(sandbox_server):  # noqa: F811
    bad = openai.OpenAI(base_url=sandbox_server.api_base, api_key="sk-nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        bad.images.generate(model="gpt-image-1", prompt="x")
    assert e.value.code == "invalid_api_key"


@pytest.mark.parametrize("fault,exc,code", [
    ("rate_limit", openai.RateLimitError, "rate_limit_exceeded"),
    ("quota", openai.RateLimitError, "insufficient_quota"),
    ("moderation_input", openai.BadRequestError, "moderation_blocked"),
    ("moderation_output", openai.BadRequestError, "moderation_blocked"),
    ("org_verification", openai.PermissionDeniedError, None),
    ("server_error", openai.InternalServerError, None),
    ("overloaded", openai.InternalServerError, "overloaded"),
])
def test_sdk_exceptions_on_faults(sdk, fault, exc, code):
    with pytest.raises(exc) as e:
        sdk.images.generate(model="gpt-image-1", prompt=f"sdk {fault} [[sandbox:{fault}]]", quality="low")
    assert e.value.code == code
    assert e.value.request_id and e.value.request_id.startswith("req_")


def test_bad_request_error(sdk):
    with pytest.raises(openai.BadRequestError) as e:
        sdk.images.generate(model="dall-e-3", prompt="x", n=3)
    assert e.value.param == "n"
    with pytest.raises(openai.NotFoundError):
        sdk.images.generate(model="no-such-model", prompt="x")


def test_stream_error_raises(sdk):
    stream = sdk.images.generate(model="gpt-image-1", prompt="x [[sandbox:stream_error]]", stream=True,
                                 partial_images=1, quality="low")
    got = []
    with pytest.raises(openai.APIError):
        for event in stream:
            got.append(event.type)
    assert got == ["image_generation.partial_image"]


def test_sdk_retries_a_rate_limit_and_succeeds(sandbox_server):  # noqa: F811
    retrying = openai.OpenAI(base_url=sandbox_server.api_base, api_key=sandbox_server.key, max_retries=2)
    res = retrying.images.generate(model="gpt-image-1", prompt="retry me [[sandbox:rate_limit:1]]", quality="low")
    assert res.data[0].b64_json
