"""image_synthesize: PIL images of the requested size carrying their params, kept by save()."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fakes import FakeTransport, error_json, images_json  # noqa: E402
from serverfixture import running_server  # noqa: E402

from imagesynth import errors, image_synthesize, image_synthesize_async  # noqa: E402
from imagesynth.pngmeta import read_params  # noqa: E402

AUTH = {"APIKey": "sk-test-SECRET"}


@pytest.fixture(scope="module")
def srv():
    with running_server(retry_after=0.05) as s:
        yield s


def test_one_image_when_n_is_none(srv):
    from PIL import Image

    img = image_synthesize("a Monet-like painting of a pond", image_size="Small",
                           authentication={"APIKey": srv.key}, base_url=srv.api_base)
    assert isinstance(img, Image.Image) and img.size == (256, 256)
    assert img.info["prompt"] == "a Monet-like painting of a pond" and img.info["size"] == "256x256"
    assert "seed" in img.info and "model" in img.info
    assert json.loads(img.info["imagesynth"])["prompt"] == "a Monet-like painting of a pond"


def test_list_of_n_with_explicit_size(srv):
    imgs = image_synthesize("a pond", 3, image_size=(320, 200), authentication={"APIKey": srv.key},
                            base_url=srv.api_base)
    assert isinstance(imgs, list) and [i.size for i in imgs] == [(320, 200)] * 3
    assert [i.info["index"] for i in imgs] == [0, 1, 2]
    assert len({i.info["seed"] for i in imgs}) == 1  # one seed per call


def test_saved_png_keeps_the_params(srv, tmp_path):
    from PIL import Image

    img = image_synthesize("a red boat", image_size="Small", authentication={"APIKey": srv.key},
                           base_url=srv.api_base)
    path = tmp_path / "boat.png"
    img.save(path)
    assert read_params(path.read_bytes())["prompt"] == "a red boat"
    assert json.loads(Image.open(path).info["imagesynth"])["prompt"] == "a red boat"
    # and again after an edit of the picture by the user: params ride on the object
    img.save(tmp_path / "again.png", optimize=True)
    assert read_params((tmp_path / "again.png").read_bytes())["size"] == "256x256"
    assert "sk-" not in path.read_bytes().decode("latin-1")


def test_variation_and_inpaint_forms_with_fake_transport():
    from PIL import Image

    t = FakeTransport(lambda r, i: images_json(1))
    ref = Image.new("RGB", (64, 48), (9, 9, 9))
    img = image_synthesize(ref, model="gpt-image-1", authentication=AUTH, transport=t)
    assert img.info["task"] == "vary" and t.requests[-1].url.endswith("/images/edits")

    hole = Image.new("RGBA", (64, 48), (9, 9, 9, 255))
    hole.paste((0, 0, 0, 0), (10, 10, 30, 30))
    img = image_synthesize({"Text": "a hat", "Image": hole}, model="gpt-image-1", authentication=AUTH, transport=t)
    assert img.info["task"] == "inpaint" and img.size == (64, 48)

    mask = Image.new("L", (64, 48), 0)
    mask.paste(255, (0, 0, 20, 20))
    img = image_synthesize({"Text": "a hat", "Image": ref, "Mask": mask}, 1, model="gpt-image-1",
                           authentication=AUTH, transport=t)
    assert len(img) == 1 and img[0].size == (64, 48)


def test_model_params_and_options_are_routed():
    t = FakeTransport(lambda r, i: images_json(1))
    seen = []
    image_synthesize("a pond", model="gpt-image-1", quality="low", background="opaque", seed=7, max_retries=0,
                     progress_reporting=seen.append, authentication=AUTH, transport=t, stream=False)
    body = json.loads(t.requests[-1].body)
    assert body["quality"] == "low" and body["background"] == "opaque" and "seed" not in body
    assert [e.stage for e in seen][-1] == "done" and seen[-1].image.params["seed"] == 7


def test_default_model_comes_from_the_listing():
    def answer(req, i):
        if req.method == "GET":
            return type(images_json(1))(200, {"content-type": "application/json"},
                                        b'{"data": [{"id": "dall-e-3"}, {"id": "tts-1"}]}')
        return images_json(1)

    t = FakeTransport(answer)
    img = image_synthesize("a pond", authentication=AUTH, transport=t)
    assert img.info["model"] == "dall-e-3" and json.loads(t.requests[1].body)["model"] == "dall-e-3"


def test_partial_results_are_pil_images():
    from PIL import Image

    t = FakeTransport(lambda r, i: error_json(500, "boom", None, "server_error") if i == 1 else images_json(1))
    with pytest.raises(errors.ServerError) as e:
        image_synthesize("a pond", 2, model="dall-e-3", authentication=AUTH, transport=t, max_retries=0,
                         concurrency=1)
    assert len(e.value.partial_results) == 1 and isinstance(e.value.partial_results[0], Image.Image)


def test_sync_call_inside_a_loop_says_use_async():
    async def inner():
        with pytest.raises(errors.InputError, match="image_synthesize_async"):
            image_synthesize("a pond", authentication=AUTH)

    asyncio.run(inner())


async def test_async_variant():
    t = FakeTransport(lambda r, i: images_json(2))
    imgs = await image_synthesize_async("a pond", 2, model="gpt-image-1", authentication=AUTH, transport=t)
    assert len(imgs) == 2


def test_package_imports_without_pillow_or_requests():
    code = ("import sys; sys.modules['PIL'] = None; sys.modules['requests'] = None; sys.modules['tqdm'] = None;"
            "import imagesynth, imagesynth.orchestrate, imagesynth.auth, imagesynth.retry, imagesynth.tasks,"
            " imagesynth.transports, imagesynth.api, imagesynth.cli;"
            "print(sorted(m for m in ('keyring', 'PIL', 'requests', 'tqdm') if sys.modules.get(m)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).parent.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_jpeg_output_is_returned_as_encoded(tmp_path):
    t = FakeTransport(lambda r, i: images_json(1))
    img = image_synthesize("a pond", model="gpt-image-1", output_format="jpeg", image_size="Small",
                           authentication=AUTH, transport=t)
    assert img.format == "JPEG" and img.mode == "RGB" and img.info["output_format"] == "jpeg"
    img.save(tmp_path / "x.jpg")  # RGBA could not be written as JPEG


def test_resized_mask_is_a_python_warning_before_any_request():
    import warnings

    from PIL import Image

    img = Image.new("RGB", (64, 64), "blue")
    mask = Image.new("L", (32, 32), 0)
    mask.paste(255, (0, 0, 16, 16))
    transport = FakeTransport([images_json(1, size=(64, 64))])
    seen: list = []

    def show(message, category, *a, **k):
        seen.append((category, str(message), len(transport.requests)))

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show  # restored by catch_warnings
        out = image_synthesize({"Text": "a hat", "Image": img, "Mask": mask}, model="gpt-image-1",
                               authentication=AUTH, transport=transport)
    assert [(c, n) for c, _, n in seen] == [(errors.ImageSynthWarning, 0)]  # before the request
    assert "32x32" in seen[0][1]
    assert out.size == (64, 64) and "32x32" in out.info["warnings"][0]
