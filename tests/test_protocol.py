"""Requests built from jobs (checked against the contract) and responses read back."""

import base64
import json

import pytest

from contract import is_valid, multipart_to_instance, validate_against
from imagesynth import errors as E
from imagesynth.apierrors import moderation_stage, parse_retry_after, redact
from imagesynth.http import HttpResponse
from imagesynth.models import MODELS, profile_for
from imagesynth.multipart import FilePart, encode
from imagesynth.protocol import (
    Endpoint, Job, build_download_request, build_models_request, build_request, error_from_response,
    parse_models_response, parse_response,
)

KEY = "sk-proj-SECRETSECRETSECRET1234567890"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # binary, with CR/LF and dashes inside
JPG = b"\xff\xd8\xff\xe0" + b"\r\n--" * 50
EP = Endpoint(api_key=KEY, organization="org-1", project="proj_1", user="end-user-7")


def body_of(req):
    ctype = req.headers["Content-Type"]
    if ctype == "application/json":
        return json.loads(req.body), {}
    return multipart_to_instance(ctype, req.body)


def check_contract(job, req):
    inst, files = body_of(req)
    schema = {"generate": "CreateImageRequest", "edit": "CreateImageEditRequest",
              "variation": "CreateImageVariationRequest"}[job.operation]
    validate_against(schema, inst)
    return inst, files


def all_jobs():
    for m in MODELS.values():
        p = m
        if m.generate:
            params = {k: v[0] for k, v in p.generate_params.items()
                      if v and k not in ("stream", "partial_images")}
            params.pop("output_compression", None)
            yield Job("generate", m.id, prompt="a pond", n=min(2, m.max_n), size=m.sizes.fixed[-1], params=params,
                      stream=m.streaming, partial_images=2 if m.streaming else None)
        if m.edit:
            params = {k: v[0] for k, v in p.edit_params.items() if v and k not in ("stream", "partial_images")}
            yield Job("edit", m.id, prompt="a hat", n=1, size=m.sizes.fixed[0], params=params, images=[PNG],
                      image_mimes=["image/png"], mask=PNG)
            if m.max_edit_images > 1:
                yield Job("edit", m.id, prompt="basket", images=[PNG, JPG, PNG],
                          image_mimes=["image/png", "image/jpeg", "image/png"], stream=True, partial_images=1)
        if m.variation:
            yield Job("variation", m.id, n=3, size="512x512", images=[PNG], image_mimes=["image/png"])


@pytest.mark.parametrize("job", list(all_jobs()), ids=lambda j: f"{j.model}-{j.operation}-{len(j.images)}")
def test_every_request_matches_the_contract(job):
    req = build_request(EP, job)
    inst, files = check_contract(job, req)
    assert req.method == "POST"
    assert inst["model"] == job.model
    profile = profile_for(job.model)
    taken = profile.params_for(job.operation)
    for name in inst:
        if name not in ("model", "prompt", "image", "mask"):
            assert name in taken, f"{name} sent to {job.model}"
    assert inst.get("user") == "end-user-7"
    if job.operation == "generate":
        assert req.headers["Content-Type"] == "application/json"
    else:
        assert req.headers["Content-Type"].startswith("multipart/form-data; boundary=")
        images = files.get("image") or files.get("image[]")
        assert images == job.images  # bytes survive exactly
        if len(job.images) > 1:
            assert "image[]" in files and "image" not in files
        if job.mask is not None:
            assert files["mask"] == [job.mask]
    if job.stream:
        assert inst["stream"] is True and inst["partial_images"] == job.partial_images
        assert req.stream and req.headers["Accept"] == "text/event-stream"
    else:
        assert "stream" not in inst and not req.stream and req.headers["Accept"] == "application/json"


def test_contract_helper_can_fail():
    assert not is_valid("CreateImageRequest", {"n": 1})  # prompt missing
    assert not is_valid("CreateImageRequest", {"prompt": "x", "n": 11})
    assert not is_valid("CreateImageVariationRequest", {"image": "<binary>", "size": "1536x1024"})
    with pytest.raises(Exception, match="partial_images"):
        validate_against("CreateImageEditRequest", {"prompt": "x", "image": "<binary>", "partial_images": 4})


def test_openai_headers_and_url():
    req = build_request(EP, Job("generate", "gpt-image-1", prompt="x"))
    assert req.url == "https://api.openai.com/v1/images/generations"
    assert req.headers["Authorization"] == f"Bearer {KEY}"
    assert req.headers["OpenAI-Organization"] == "org-1" and req.headers["OpenAI-Project"] == "proj_1"
    assert "api-key" not in req.headers
    assert KEY not in repr(req) and KEY not in repr(EP)


def test_compatible_without_key_sends_no_auth():
    ep = Endpoint(base_url="http://localhost:8000/v1/", kind="compatible")
    job = Job("variation", "dall-e-2", images=[PNG])
    req = build_request(ep, job)
    assert req.url == "http://localhost:8000/v1/images/variations"
    assert "Authorization" not in req.headers
    inst, files = check_contract(job, req)
    assert inst["response_format"] == "b64_json"  # never a URL we would have to fetch cross-origin


def test_azure_url_and_key_header():
    ep = Endpoint(base_url="https://res.openai.azure.com/", api_key=KEY, kind="azure", deployment="my img",
                  api_version="2025-04-01-preview", organization="org-ignored")
    req = build_request(ep, Job("edit", "gpt-image-1", prompt="x", images=[PNG]))
    assert req.url == ("https://res.openai.azure.com/openai/deployments/my%20img/images/edits"
                       "?api-version=2025-04-01-preview")
    assert req.headers["api-key"] == KEY
    assert "Authorization" not in req.headers and "OpenAI-Organization" not in req.headers
    # deployment defaults to the model id; "/openai" on the base is tolerated; a default api-version
    ep2 = Endpoint(base_url="https://res.openai.azure.com/openai", api_key=KEY, kind="azure")
    url = build_request(ep2, Job("generate", "gpt-image-1", prompt="x")).url
    assert url.startswith("https://res.openai.azure.com/openai/deployments/gpt-image-1/images/generations?api-version=")
    # the v1 surface takes OpenAI paths
    ep3 = Endpoint(base_url="https://res.openai.azure.com/openai/v1", api_key=KEY, kind="azure")
    assert build_request(ep3, Job("generate", "gpt-image-1", prompt="x")).url == \
        "https://res.openai.azure.com/openai/v1/images/generations"


def test_params_the_model_does_not_take_are_not_sent():
    job = Job("generate", "gpt-image-1", prompt="x", params={"style": "vivid", "quality": "high", "background": None})
    inst, _ = check_contract(job, build_request(EP, job))
    assert "style" not in inst and inst["quality"] == "high" and "background" not in inst
    job = Job("generate", "dall-e-3", prompt="x", stream=True, partial_images=2)
    inst, _ = check_contract(job, build_request(EP, job))
    assert "stream" not in inst and "partial_images" not in inst
    job = Job("generate", "gpt-image-1", prompt="x", params={"output_compression": 50})
    assert "output_compression" not in json.loads(build_request(EP, job).body)  # png: meaningless
    job = Job("generate", "gpt-image-1", prompt="x", params={"output_compression": 50, "output_format": "webp"})
    assert json.loads(build_request(EP, job).body)["output_compression"] == 50
    # partial_images only with streaming
    job = Job("generate", "gpt-image-1", prompt="x", partial_images=2)
    assert "partial_images" not in json.loads(build_request(EP, job).body)


def test_unknown_model_sends_what_the_job_says():
    job = Job("generate", "flux-dev", prompt="x", params={"quality": "high", "steps": 4})
    body = json.loads(build_request(EP, job).body)
    assert body["steps"] == 4 and body["model"] == "flux-dev"


def test_prompt_unicode_and_quotes_in_json_and_form():
    prompt = 'a "café" ☕\r\nline two'
    job = Job("generate", "gpt-image-1", prompt=prompt)
    assert json.loads(build_request(EP, job).body)["prompt"] == prompt
    job = Job("edit", "gpt-image-1", prompt=prompt, images=[PNG])
    inst, _ = check_contract(job, build_request(EP, job))
    assert inst["prompt"] == prompt


def test_multipart_boundary_collision_is_redrawn():
    body, ctype = encode([("a", "1")], [FilePart("f", 'x"y\n.png', "image/png", b"--fixed\r\n")], boundary="other")
    assert b'filename="x%22y%0A.png"' in body
    with pytest.raises(ValueError):
        encode([], [FilePart("f", "f.png", "image/png", b"xx--fixed--")], boundary="fixed")
    inst, files = multipart_to_instance(ctype, body)
    assert inst["a"] == "1" and files["f"] == [b"--fixed\r\n"]


# --- responses ----------------------------------------------------------------------------------
def resp(status, payload=None, body=None, **headers):
    if body is None:
        body = json.dumps(payload).encode()
    return HttpResponse(status=status, headers={k.replace("_", "-"): v for k, v in headers.items()}, body=body)


def test_parse_response_b64_and_url():
    b64 = base64.b64encode(PNG).decode()
    imgs = parse_response(resp(200, {"created": 1, "data": [{"b64_json": b64}, {"b64_json": b64}],
                                     "output_format": "webp", "usage": {"total_tokens": 3}}, x_request_id="req_9"))
    assert [i.b64 for i in imgs] == [b64, b64]
    assert imgs[0].output_format == "webp" and imgs[0].usage == {"total_tokens": 3} and imgs[0].request_id == "req_9"
    imgs = parse_response(resp(200, {"created": 1, "data": [{"url": "https://x/y.png", "revised_prompt": "r"}]}))
    assert imgs[0].url == "https://x/y.png" and imgs[0].revised_prompt == "r"


@pytest.mark.parametrize("body", [b"", b"<html>hi</html>", b"{}", b'{"created":1,"data":[]}',
                                  b'{"created":1,"data":[{}]}', b"\xff\xfe"])
def test_parse_response_malformed(body):
    with pytest.raises(E.ResponseError):
        parse_response(resp(200, body=body))


def test_parse_response_stream_body_when_not_asked():
    body = b'event: image_generation.completed\ndata: {"type":"image_generation.completed","b64_json":"QUJD"}\n\n'
    imgs = parse_response(resp(200, body=body, content_type="text/event-stream"))
    assert imgs[0].b64 == "QUJD"


def api_err(status, message, code=None, param=None, type_="invalid_request_error", **headers):
    return resp(status, {"error": {"message": message, "type": type_, "param": param, "code": code}},
                x_request_id="req_abc", **headers)


def raised(response, model="gpt-image-1"):
    with pytest.raises(E.ImageSynthError) as e:
        parse_response(response, model=model)
    return e.value


def test_401_bad_key_never_echoes_key():
    err = raised(api_err(401, f"Incorrect API key provided: {KEY[:8]}***7890. You can find your API key at "
                              "https://platform.openai.com/account/api-keys.", code="invalid_api_key"))
    assert isinstance(err, E.AuthenticationError) and not err.retryable
    assert "api-keys" in str(err) and "replace" in str(err)
    assert (err.status, err.code, err.request_id) == (401, "invalid_api_key", "req_abc")
    for text in (str(err), repr(err), json.dumps(err.to_dict())):
        assert KEY[:8] not in text and "7890" not in text


def test_403_org_verification():
    err = raised(api_err(403, "Your organization must be verified to use the model `gpt-image-1`."))
    assert isinstance(err, E.PermissionDeniedError)
    assert "verif" in str(err) and "platform.openai.com/settings" in str(err) and "another model" in str(err)
    err = raised(api_err(403, "Project does not have access"), model="dall-e-2")
    assert isinstance(err, E.PermissionDeniedError) and "Project does not have access" in str(err)


def test_404_model_vs_path():
    err = raised(api_err(404, "The model `gpt-image-9` does not exist.", code="model_not_found"), model="gpt-image-9")
    assert isinstance(err, E.NotFoundError) and "gpt-image-9" in str(err) and "lists" in str(err)
    err = raised(resp(404, body=b"<!DOCTYPE html><html>Not Found</html>"))
    assert isinstance(err, E.NotFoundError) and "base URL" in str(err) and "web page" in str(err)


def test_429_quota_vs_rate_limit():
    err = raised(api_err(429, "You exceeded your current quota", code="insufficient_quota",
                         type_="insufficient_quota"))
    assert isinstance(err, E.QuotaExceededError) and not err.retryable and "billing" in str(err)
    err = raised(api_err(429, "Rate limit reached", code="rate_limit_exceeded", retry_after="7"))
    assert isinstance(err, E.RateLimitError) and err.retryable and err.retry_after == 7.0 and "7 s" in str(err)
    err = raised(api_err(429, "slow down", retry_after_ms="1500", retry_after="9"))
    assert err.retry_after == 1.5
    err = raised(api_err(429, "slow down"))
    assert isinstance(err, E.RateLimitError) and err.retry_after is None


def test_retry_after_forms():
    assert parse_retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}, now=1445412480.0) == 30.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412480.0 + 60) == 0.0
    assert parse_retry_after({"retry-after": "Wednesday, 21-Oct-15 07:28:40 GMT"}, now=1445412480.0) == 40.0
    assert parse_retry_after({"retry-after": "Wed Oct 21 07:28:50 2015"}, now=1445412480.0) == 50.0
    assert parse_retry_after({"retry-after": "Wed, 32 Oct 2015 07:28:50 GMT"}) is None
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "-3"}) is None
    assert parse_retry_after({"retry-after-ms": "x", "retry-after": "2"}) == 2.0
    assert parse_retry_after({}) is None


def test_moderation_input_and_output():
    err = raised(api_err(400, "Your request was rejected by the safety system.", code="moderation_blocked",
                         param="prompt", type_="image_generation_user_error"))
    assert isinstance(err, E.ModerationError) and err.stage == "input" and not err.retryable
    assert "Rephrase" in str(err) and err.param == "prompt"
    err = raised(api_err(400, "The generated image was blocked by the safety system.", code="moderation_blocked"))
    assert isinstance(err, E.ModerationError) and err.stage == "output" and "generated image" in str(err)
    err = raised(api_err(400, "Your request was rejected as a result of our safety system.",
                         code="content_policy_violation"), model="dall-e-3")
    assert isinstance(err, E.ModerationError) and err.stage == "input"


@pytest.mark.parametrize("code, param, message, stage", [
    ("moderation_blocked", "prompt", "rejected by the safety system", "input"),
    ("moderation_blocked", "image", "the generated image", "input"),  # param wins
    ("moderation_blocked", "image[]", "", "input"),
    ("moderation_blocked", None, "Generated image rejected by moderation", "output"),
    ("moderation_blocked", None, "Your request was rejected by the safety system", "input"),
    ("content_policy_violation", None, "", "input"),
])
def test_moderation_stage_rules(code, param, message, stage):
    assert moderation_stage(code, param, message) == stage


def test_other_400_keeps_api_message():
    err = raised(api_err(400, "Invalid image file or mode for image 1, please check your image file.",
                         code="invalid_image_file", param="image"))
    assert type(err) is E.BadRequestError and "Invalid image file" in str(err) and err.param == "image"
    err = raised(api_err(400, "Invalid value: '512x512'. Supported values are: '1024x1024'", param="size",
                         code="invalid_value"))
    assert "image size" in str(err) and "512x512" in str(err)
    err = raised(api_err(413, "Image too large"))
    assert type(err) is E.BadRequestError and "too large" in str(err)


@pytest.mark.parametrize("status", [408, 409, 500, 502, 503, 504])
@pytest.mark.parametrize("body", [b"", b"<html><body>Bad gateway</body></html>", b"upstream reset",
                                  b'{"error":{"message":"The server had an error","type":"server_error"}}'])
def test_server_errors_any_body(status, body):
    err = raised(resp(status, body=body, x_request_id="r1"))
    assert isinstance(err, E.ServerError) and err.retryable and err.status == status and err.request_id == "r1"
    assert f"HTTP {status}" in str(err)


def test_non_standard_error_bodies():
    err = error_from_response(422, {}, b'{"detail": [{"loc": ["body", "prompt"], "msg": "field required"}]}')
    assert isinstance(err, E.BadRequestError) and "field required" in str(err)
    err = error_from_response(400, {}, b'{"error": "bad size"}')
    assert "bad size" in str(err)
    err = error_from_response(400, {"X-Request-ID": "rid"}, b"")
    assert err.request_id == "rid" and "empty" in str(err)


def test_redact():
    assert redact(f"key {KEY} and 0123456789abcdef0123456789abcdef!") == "key [redacted] and [redacted]!"
    assert redact(None) is None


def test_models_listing():
    req = build_models_request(EP)
    assert (req.method, req.url) == ("GET", "https://api.openai.com/v1/models")
    assert req.headers["Authorization"] == f"Bearer {KEY}"
    ids = parse_models_response(resp(200, {"object": "list", "data": [{"id": "gpt-image-1"}, {"id": "gpt-4o"}]}))
    assert ids == ["gpt-image-1", "gpt-4o"]
    az = build_models_request(Endpoint(base_url="https://r.openai.azure.com", api_key=KEY, kind="azure"))
    assert az.url.startswith("https://r.openai.azure.com/openai/models?api-version=") and az.headers["api-key"] == KEY
    with pytest.raises(E.AuthenticationError):
        parse_models_response(api_err(401, "bad"))
    with pytest.raises(E.ResponseError):
        parse_models_response(resp(200, body=b"<html>"))


def test_download_request_sends_no_credentials():
    req = build_download_request("https://oaidalleapiprodscus.blob.core.windows.net/x.png?sig=1")
    assert req.method == "GET" and "Authorization" not in req.headers and "api-key" not in req.headers
    with pytest.raises(E.ResponseError):
        build_download_request("file:///etc/passwd")


def test_protocol_layer_imports_without_cpython_only_modules():
    # Pyodide has no working socket/ssl/subprocess: the core must not import them.
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, importlib, importlib.abc\n"
        "BLOCK = {'socket', 'ssl', 'subprocess', 'requests', 'urllib3', 'http.client', 'select'}\n"
        "class B(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name in BLOCK or name.split('.')[0] in BLOCK: raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, B())\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent.parent / 'py')!r})\n"
        "for m in ('sizes', 'multipart', 'validate', 'sse', 'apierrors', 'protocol'):\n"
        "    importlib.import_module('imagesynth.' + m)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_reprs_give_image_bytes_as_their_length():
    # a dataclass's own repr spelled out every byte: a screenful at the REPL, and ~80 ms of
    # asyncio.run formatting a PreparedEdit's 5 MB of uploads on Python 3.11
    from imagesynth.multipart import FilePart
    from imagesynth.prepare import PreparedEdit
    from imagesynth.result import GeneratedImage

    big = b"\x89PNG" + bytes(1_000_000)
    shown = [
        repr(GeneratedImage(data=big, mime="image/png", width=1024, height=1024, params={"prompt": "a fox"})),
        repr(PreparedEdit(images=[big], image_mimes=["image/png"], mask=big, original=None, paint_mask=None,
                          upload_size=(1024, 1024), original_source=bytearray(big))),
        repr(FilePart("image[]", "image.png", "image/png", memoryview(big))),
    ]
    for text in shown:
        assert "<1000004 bytes>" in text and "\\x00" not in text and len(text) < 600, text[:200]
    assert "'a fox'" in shown[0] and "upload_size=(1024, 1024)" in shown[1] and "image[]" in shown[2]
