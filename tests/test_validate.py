"""validate_job: each bad job is an InputError that names the problem and the fix."""

import pytest

from imagesynth.errors import InputError
from imagesynth.models import profile_for
from imagesynth.protocol import Job
from imagesynth.validate import validate_job

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def gen(model="gpt-image-1", **kw):
    kw.setdefault("prompt", "a pond")
    return profile_for(model), Job(operation="generate", model=model, **kw)


def edit(model="gpt-image-1", **kw):
    kw.setdefault("prompt", "a hat")
    kw.setdefault("images", [PNG])
    return profile_for(model), Job(operation="edit", model=model, **kw)


def var(model="dall-e-2", **kw):
    kw.setdefault("images", [PNG])
    return profile_for(model), Job(operation="variation", model=model, **kw)


def fails(args, *words):
    with pytest.raises(InputError) as e:
        validate_job(*args)
    for w in words:
        assert w in str(e.value), str(e.value)
    return str(e.value)


@pytest.mark.parametrize("args", [
    gen(), gen(size="1536x1024", params={"quality": "high", "background": "transparent"}),
    gen(stream=True, partial_images=3), gen("dall-e-3", params={"style": "natural", "quality": "hd"}),
    gen("gpt-image-2", size="1536x864"), gen(params={"output_format": "webp", "output_compression": 50}),
    edit(), edit(images=[PNG] * 16, mask=PNG, params={"input_fidelity": "high"}), edit("dall-e-2", size="256x256"),
    var(n=10, size="512x512"), gen(params={"user": "u-1"}),
])
def test_valid_jobs_pass(args):
    assert validate_job(*args) is None


def test_unknown_model_gets_generic_checks_only():
    validate_job(None, Job(operation="generate", model="flux", prompt="x", params={"anything": 1}))
    with pytest.raises(InputError, match="empty"):
        validate_job(None, Job(operation="generate", model="flux", prompt=""))


def test_empty_prompt():
    fails(gen(prompt=""), "prompt is empty")
    fails(gen(prompt="   \n"), "prompt is empty")
    fails(edit(prompt=None), "prompt is empty")


@pytest.mark.parametrize("model, limit", [("dall-e-2", "1,000"), ("dall-e-3", "4,000"), ("gpt-image-1", "32,000")])
def test_prompt_too_long_names_the_limit(model, limit):
    p = profile_for(model)
    validate_job(*gen(model, prompt="x" * p.max_prompt))
    msg = fails(gen(model, prompt="x" * (p.max_prompt + 1)), limit, model)
    assert "Shorten" in msg


@pytest.mark.parametrize("n", [0, 11, -1, 2.0, True, "3"])
def test_n_outside_1_to_10(n):
    fails(gen(n=n), "1 to 10")


def test_n_above_model_limit():
    fails(gen("dall-e-3", n=2), "dall-e-3", "at most 1")


def test_style_on_gpt_image_names_models_that_take_it():
    fails(gen(params={"style": "vivid"}), "gpt-image-1", "'style'", "dall-e-3")


def test_input_fidelity_on_mini():
    fails(edit("gpt-image-1-mini", params={"input_fidelity": "high"}), "gpt-image-1-mini", "gpt-image-1,")


def test_value_not_allowed_lists_choices():
    fails(gen(params={"quality": "hd"}), "quality='hd'", "'low', 'medium', 'high', 'auto'")
    fails(gen("dall-e-3", params={"style": "anime"}), "'vivid', 'natural'")
    fails(gen(params={"output_format": "webp", "output_compression": 101}), "0 to 100")
    fails(gen(params={"background": "transparent", "output_format": "jpeg"}), "png")
    fails(gen(params={"response_format": "url"}), "response_format", "dall-e-2")


def test_operation_not_supported():
    fails(edit("dall-e-3"), "dall-e-3 cannot edit", "gpt-image-1")
    fails(var("gpt-image-1"), "cannot make variations", "dall-e-2")
    fails((profile_for("gpt-image-1"), Job(operation="paint", model="gpt-image-1", prompt="x")), "Unknown operation")


def test_stream_and_partial_images():
    fails(gen("dall-e-3", stream=True), "cannot stream", "gpt-image-1")
    fails(gen(stream=True, partial_images=4), "0 to 3")
    fails(gen(stream=True, partial_images=-1), "0 to 3")
    fails(gen(params={"stream": True}), "job's own field")


def test_sizes_checked():
    fails(gen(size="512x512"), "cannot make size '512x512'", "'1024x1024'")
    fails(gen("gpt-image-2", size="1000x1000"), "WIDTHxHEIGHT")


def test_inputs():
    fails(gen(images=[PNG]), "no input image")
    fails(edit(images=[]), "input image is needed")
    fails(edit(images=[PNG] * 17), "at most 16")
    fails(edit("dall-e-2", images=[PNG, PNG]), "at most 1")
    fails(var(images=[PNG, PNG]), "exactly one")
    fails(var(prompt="x"), "no prompt")
    fails(var(mask=PNG), "no mask")


@pytest.mark.parametrize("model", ["gpt-image-1", "gpt-image-1.5", "gpt-image-2"])
def test_input_fidelity_on_models_the_contract_names(model):
    # InputFidelity: "gpt-image-1 and gpt-image-1.5 and later models, unsupported for gpt-image-1-mini"
    validate_job(*edit(model, params={"input_fidelity": "high"}))
