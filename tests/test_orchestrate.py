"""synthesize() against a fake transport answering canned, contract-shaped responses."""

import asyncio
import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fakes import FakeTransport, error_json, images_json, png, sse_response  # noqa: E402

from imagesynth import errors  # noqa: E402
from imagesynth.imaging.pillow import PillowImaging  # noqa: E402
from imagesynth.orchestrate import VARIATION_PROMPT, Options, list_models, synthesize  # noqa: E402
from imagesynth.http import HttpResponse  # noqa: E402
from imagesynth.pngmeta import read_params  # noqa: E402
from imagesynth.protocol import Endpoint  # noqa: E402
from imagesynth.retry import RetryPolicy  # noqa: E402

EP = Endpoint(api_key="sk-test-SECRET")
FAST = RetryPolicy(max_retries=3, base=0.0)


def opts(**kw):
    kw.setdefault("retry_policy", FAST)
    return Options(**kw)


class Recorder:
    def __init__(self):
        self.events = []

    def __call__(self, ev):
        self.events.append(ev)

    def stages(self, index=None):
        return [e.stage for e in self.events if index is None or e.index == index]


async def run(spec, transport, progress=None, available=None, **kw):
    return await synthesize(spec, EP, options=opts(**kw), transport=transport, imaging=PillowImaging(),
                            progress=progress, available_models=available)


# --- n, splitting and concurrency -------------------------------------------------------------
async def test_n_split_into_concurrent_requests_for_a_one_per_request_model():
    t = FakeTransport(lambda r, i: images_json(1), delay=0.05)
    rec = Recorder()
    res = await run("a pond", t, rec, n=3, model="dall-e-3", image_size="Small")
    assert len(t.requests) == 3 and all(b["n"] == 1 for b in t.json_bodies())
    assert t.max_in_flight == 3, "the three requests must be in flight at the same time"
    assert [r.index for r in res] == [0, 1, 2] and all((r.width, r.height) == (256, 256) for r in res)
    for i in range(3):
        assert rec.stages(i) == ["preparing", "waiting", "decoding", "done"]


async def test_concurrency_is_bounded():
    t = FakeTransport(lambda r, i: images_json(1), delay=0.03)
    await run("a pond", t, n=5, model="dall-e-3", concurrency=2)
    assert len(t.requests) == 5 and t.max_in_flight == 2


async def test_model_taking_n_gets_one_request():
    t = FakeTransport(lambda r, i: images_json(3))
    res = await run("a pond", t, n=3, model="gpt-image-1")
    assert len(t.requests) == 1 and t.json_bodies()[0]["n"] == 3 and len(res) == 3


async def test_params_recorded_and_written_into_png():
    t = FakeTransport(lambda r, i: images_json(1, revised="a calm pond at dawn"))
    res = await run("a pond", t, n=1, model="dall-e-3", image_size="Medium", seed=1234,
                    params={"quality": "hd", "style": "natural"})
    p = res[0].params
    assert p["prompt"] == "a pond" and p["revised_prompt"] == "a calm pond at dawn"
    assert (p["model"], p["size"], p["generated_size"], p["seed"], p["request_id"]) == (
        "dall-e-3", "512x512", "1024x1024", 1234, "req_123")
    assert (p["quality"], p["style"], p["task"], p["index"]) == ("hd", "natural", "generate", 0)
    assert "api_key" not in p and "sk-test-SECRET" not in repr(p)
    assert read_params(res[0].data)["revised_prompt"] == "a calm pond at dawn"
    body = t.json_bodies()[0]
    assert body["style"] == "natural" and body["size"] == "1024x1024"


async def test_default_model_is_newest_gpt_image_model_listed():
    t = FakeTransport(lambda r, i: images_json(1))
    res = await run("a pond", t, available=["dall-e-2", "gpt-image-1", "whisper-1"])
    assert t.json_bodies()[0]["model"] == "gpt-image-1" and res[0].params["model"] == "gpt-image-1"


# --- checked before any request ---------------------------------------------------------------
@pytest.mark.parametrize("kw, words", [
    (dict(model="gpt-image-1", params={"style": "vivid"}), "style"),
    (dict(model="gpt-image-1", image_size="Huge"), "Unknown image size"),
    (dict(model="dall-e-3", image_size=(2048, 2048)), "larger than dall-e-3 can make"),
    (dict(n=11), "from 1 to 10"),
    (dict(n=0), "from 1 to 10"),
    (dict(model="dall-e-2", stream=True), "stream"),
])
async def test_bad_input_fails_before_any_request(kw, words):
    t = FakeTransport(lambda r, i: images_json(1))
    with pytest.raises(errors.InputError) as e:
        await run("a pond", t, **kw)
    assert words in str(e.value) and t.requests == []


async def test_prompt_too_long_for_model():
    t = FakeTransport(lambda r, i: images_json(1))
    with pytest.raises(errors.InputError, match="at most 4,000"):
        await run("x" * 4001, t, model="dall-e-3")
    assert t.requests == []


async def test_edit_on_a_model_without_edits_is_refused_before_upload():
    t = FakeTransport(lambda r, i: images_json(1))
    with pytest.raises(errors.InputError, match="dall-e-3 cannot edit"):
        await run({"Text": "a hat", "Image": png((64, 64), (0, 0, 0, 0))}, t, model="dall-e-3")
    assert t.requests == []


# --- retries --------------------------------------------------------------------------------
async def test_retries_on_429_then_succeeds():
    t = FakeTransport([error_json(429, "Rate limit reached", "rate_limit_exceeded", "requests"),
                       error_json(503, "overloaded", None, "server_error"),
                       images_json(1)])
    rec = Recorder()
    res = await run("a pond", t, rec, model="dall-e-3")
    assert len(res) == 1 and len(t.requests) == 3
    retrying = [e for e in rec.events if e.stage == "retrying"]
    assert len(retrying) == 2 and "rate limited" in retrying[0].message and "retry 1 of 3" in retrying[0].message


async def test_connection_failures_are_retried():
    t = FakeTransport([errors.ConnectionFailed("down"), errors.TimeoutError_("slow"), images_json(1)])
    assert len(await run("a pond", t, model="dall-e-3")) == 1 and len(t.requests) == 3


@pytest.mark.parametrize("resp, exc", [
    (error_json(429, "You exceeded your current quota", "insufficient_quota", "insufficient_quota"),
     errors.QuotaExceededError),
    (error_json(400, "Your request was rejected by the safety system", "moderation_blocked"), errors.ModerationError),
    (error_json(401, "Incorrect API key provided", "invalid_api_key"), errors.AuthenticationError),
    (error_json(403, "organization must be verified", None, "invalid_request_error"), errors.PermissionDeniedError),
    (error_json(400, "Invalid value for size", "invalid_value"), errors.BadRequestError),
])
async def test_no_retry_on_final_errors(resp, exc):
    t = FakeTransport(lambda r, i: resp)
    rec = Recorder()
    with pytest.raises(exc):
        await run("a pond", t, rec, model="dall-e-3")
    assert len(t.requests) == 1 and "retrying" not in rec.stages()
    assert rec.stages(0)[-1] == "failed"


async def test_gives_up_after_max_retries():
    t = FakeTransport(lambda r, i: error_json(500, "boom", None, "server_error"))
    with pytest.raises(errors.ServerError):
        await run("a pond", t, model="dall-e-3", retry_policy=RetryPolicy(max_retries=2, base=0.0))
    assert len(t.requests) == 3


# --- nothing paid for is lost -----------------------------------------------------------------
async def test_partial_results_delivered_before_the_failure():
    def answer(req, i):
        return error_json(400, "Your request was rejected by the safety system", "moderation_blocked") \
            if i == 1 else images_json(1)

    t = FakeTransport(answer, delay=0.01)
    done_before_raise = []

    async def progress(ev):
        await asyncio.sleep(0)  # an async callback (e.g. persisting) is awaited
        if ev.stage == "done":
            done_before_raise.append(ev.image)

    with pytest.raises(errors.ModerationError) as e:
        await run("a pond", t, progress, n=3, model="dall-e-3")
    assert len(done_before_raise) == 2
    assert sorted(g.index for g in e.value.partial_results) == [0, 2]
    assert e.value.failed_indices == [1]
    assert {id(g) for g in e.value.partial_results} == {id(g) for g in done_before_raise}


async def test_short_answer_fails_only_the_missing_images():
    t = FakeTransport(lambda r, i: images_json(2))
    with pytest.raises(errors.ResponseError, match="2 image"):
        await run("a pond", t, n=3, model="gpt-image-1")


# --- streaming ------------------------------------------------------------------------------
async def test_streaming_partial_images_reach_the_callback():
    t = FakeTransport(lambda r, i: sse_response(2, split=500))
    rec = Recorder()
    res = await run("a pond", t, rec, n=2, model="gpt-image-1", image_size="Small")
    bodies = t.json_bodies()
    assert len(bodies) == 2 and all(b["stream"] is True and b["partial_images"] == 2 and b["n"] == 1 for b in bodies)
    assert t.requests[0].stream is True
    for i in range(2):
        partials = [e for e in rec.events if e.index == i and e.stage == "partial"]
        assert [e.partial_index for e in partials] == [0, 1]
        assert all(e.image[:8] == b"\x89PNG\r\n\x1a\n" and e.partial_count == 2 for e in partials)
        assert rec.stages(i)[-1] == "done"
    assert all((r.width, r.height) == (256, 256) for r in res)
    assert res[0].params["request_id"] == "req_stream"


async def test_no_stream_without_a_watcher_or_when_turned_off():
    t = FakeTransport(lambda r, i: images_json(1))
    await run("a pond", t, None, model="gpt-image-1")
    await run("a pond", t, Recorder(), model="gpt-image-1", stream=False)
    assert all("stream" not in b for b in t.json_bodies())


async def test_stream_that_ends_early_is_an_error():
    t = FakeTransport(lambda r, i: sse_response(1, complete=False))
    with pytest.raises(errors.ResponseError, match="ended"):
        await run("a pond", t, Recorder(), model="gpt-image-1")


async def test_stream_request_answered_with_an_error_status_is_retried():
    async def chunks():
        yield b'{"error": {"message": "Rate limit", "type": "requests", "code": "rate_limit_exceeded"}}'

    t = FakeTransport([HttpResponse(429, {"content-type": "application/json"}, chunks=chunks()),
                       lambda r, i: sse_response(1)])
    res = await run("a pond", t, Recorder(), model="gpt-image-1")
    assert len(res) == 1 and len(t.requests) == 2


# --- variations and inpainting ------------------------------------------------------------------
async def test_variation_on_gpt_model_is_an_edit_with_variation_prompt():
    t = FakeTransport(lambda r, i: images_json(2))
    rec = Recorder()
    res = await run(png((300, 200), (1, 2, 3, 255)), t, rec, n=2, model="gpt-image-1", stream=False)
    assert rec.stages(1) == ["preparing", "uploading", "waiting", "decoding", "done"]
    assert t.requests[0].url.endswith("/images/edits")
    f = t.multipart_fields(0)
    assert f["prompt"].decode() == VARIATION_PROMPT and "mask" not in f
    assert res[0].params["task"] == "vary" and res[0].params["operation"] == "edit"
    assert res[0].params["variation_prompt"] == VARIATION_PROMPT


async def test_variation_default_model_falls_back_to_edit():
    t = FakeTransport(lambda r, i: images_json(1))
    await run(png((64, 64)), t)
    assert t.requests[0].url.endswith("/images/edits")


async def test_variation_endpoint_on_dall_e_2():
    t = FakeTransport(lambda r, i: images_json(2, (256, 256)))
    res = await run(png((64, 64)), t, n=2, model="dall-e-2", image_size="Small")
    assert t.requests[0].url.endswith("/images/variations")
    f = t.multipart_fields(0)
    assert "prompt" not in f and f["n"] == b"2" and f["model"] == b"dall-e-2"
    assert res[0].params["operation"] == "variation" and (res[0].width, res[0].height) == (256, 256)


async def test_inpaint_transparent_part_pastes_back_at_original_size():
    from PIL import Image

    img = Image.new("RGBA", (200, 100), (0, 0, 255, 255))
    img.paste((0, 0, 0, 0), (80, 30, 120, 70))  # the hole
    buf = io.BytesIO()
    img.save(buf, "PNG")
    t = FakeTransport(lambda r, i: images_json(1, (1536, 1024)))
    res = await run({"Text": "a hat", "Image": buf.getvalue()}, t, model="gpt-image-1")
    f = t.multipart_fields(0)
    assert t.requests[0].url.endswith("/images/edits") and "mask" in f and f["prompt"] == b"a hat"
    out = res[0].picture
    assert out.size == (200, 100)
    assert out.getpixel((5, 5))[:3] == (0, 0, 255), "outside the mask the original is pasted back"
    assert out.getpixel((100, 50))[:3] != (0, 0, 255), "inside the mask the model's pixels show"
    assert res[0].params["task"] == "inpaint"


# --- url responses ----------------------------------------------------------------------------
async def test_url_answers_are_downloaded_without_credentials():
    def answer(req, i):
        if req.url.startswith("https://files.example/"):
            return HttpResponse(200, {"content-type": "image/png"}, png((1024, 1024)))
        return images_json(1, url="https://files.example/img.png")

    t = FakeTransport(answer)
    res = await run("a pond", t, model="dall-e-3")
    dl = t.requests[1]
    assert dl.method == "GET" and dl.url == "https://files.example/img.png"
    assert not any(k.lower() in ("authorization", "api-key") for k in dl.headers)
    assert res[0].width == 1024


# --- cancellation -------------------------------------------------------------------------------
async def test_cancelling_cancels_every_request():
    t = FakeTransport(lambda r, i: images_json(1), delay=10)
    task = asyncio.create_task(run("a pond", t, n=3, model="dall-e-3"))
    for _ in range(50):
        await asyncio.sleep(0.01)
        if t.in_flight == 3:
            break
    assert t.in_flight == 3
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert t.cancelled == 3 and t.in_flight == 0


# --- list_models --------------------------------------------------------------------------------
async def test_list_models():
    body = b'{"object": "list", "data": [{"id": "gpt-image-1"}, {"id": "whisper-1"}]}'
    t = FakeTransport(lambda r, i: HttpResponse(200, {"content-type": "application/json"}, body))
    assert await list_models(EP, t) == ["gpt-image-1", "whisper-1"]
    assert t.requests[0].url.endswith("/models")
    t404 = FakeTransport(lambda r, i: HttpResponse(404, {}, b"not here"))
    assert await list_models(EP, t404) == []
    t401 = FakeTransport(lambda r, i: error_json(401, "Incorrect API key", "invalid_api_key"))
    with pytest.raises(errors.AuthenticationError):
        await list_models(EP, t401)
