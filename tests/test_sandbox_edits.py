"""Edits and variations: multipart and JSON, masks, locality, resemblance, bad uploads."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image, ImageChops

from contract import validate_against
from imagesynth.models import MODELS
from sandbox_testkit import (AUTH, client, correlation, decode, error_of, images_of, mask_png, mean_diff, parse_sse,
                             picture, png)

EDIT = "/v1/images/edits"
VAR = "/v1/images/variations"
EDITORS = [m for m in MODELS.values() if m.edit]


@pytest.fixture(scope="module")
def c():
    with client() as cl:
        yield cl


def edit(c, files, **data):
    data = {k: str(v) for k, v in data.items()}
    return c.post(EDIT, files=files, data=data, headers=AUTH)


def _size_for(profile) -> tuple[int, int]:
    return (1024, 1024) if "1024x1024" in profile.sizes.fixed else tuple(map(int, profile.sizes.fixed[0].split("x")))


@pytest.mark.parametrize("profile", EDITORS, ids=lambda p: p.id)
def test_masked_edit_changes_only_the_masked_area(c, profile):
    size = _size_for(profile)
    src = picture(size, "RGBA" if profile.edit_requires_rgba else "RGB")
    box = (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2)
    extra = {"response_format": "b64_json"} if profile.response_format else {}
    r = edit(c, [("image", ("src.png", png(src), "image/png")), ("mask", ("m.png", mask_png(size, box), "image/png"))],
             model=profile.id, prompt="a golden door", size=f"{size[0]}x{size[1]}", **extra)
    (out,) = images_of(r)
    assert out.size == size
    inside = Image.new("L", size, 0)
    inside.paste(255, (box[0], box[1], box[2] + 1, box[3] + 1))
    diff = ImageChops.difference(out.convert("RGBA"), src.convert("RGBA"))
    outside = Image.composite(Image.new("RGBA", size), diff, inside)
    assert outside.getbbox(alpha_only=False) is None, "pixels outside the mask changed"
    inside_diff = Image.composite(diff, Image.new("RGBA", size), inside)
    assert inside_diff.getbbox(alpha_only=False) is not None and mean_diff(out.crop(box), src.crop(box)) > 10


def test_dalle2_uses_the_images_own_transparency_as_mask(c):
    src = picture((512, 512), "RGBA")
    hole = (100, 300, 250, 450)
    src.paste((0, 0, 0, 0), hole)
    (out,) = images_of(edit(c, [("image", ("a.png", png(src), "image/png"))], model="dall-e-2",
                             prompt="fill the hole", size="512x512", response_format="b64_json"))
    kept = Image.new("L", (512, 512), 255)
    kept.paste(0, hole)
    diff = ImageChops.difference(out.convert("RGBA"), src)
    assert Image.composite(diff, Image.new("RGBA", (512, 512)), kept).getbbox(alpha_only=False) is None
    assert out.convert("RGBA").crop(hole).getextrema()[3] == (255, 255)  # the hole is filled, opaque


def test_dalle2_without_mask_needs_transparency(c):
    err = error_of(edit(c, [("image", ("a.png", png(picture((256, 256))), "image/png"))], model="dall-e-2",
                        prompt="x"), 400)
    assert err["param"] == "image" and "RGBA" in err["message"]


def test_dalle2_needs_a_square_png(c):
    err = error_of(edit(c, [("image", ("a.png", png(picture((300, 200), "RGBA")), "image/png"))],
                        model="dall-e-2", prompt="x"), 400)
    assert err["param"] == "image"
    jpg = io.BytesIO()
    picture((256, 256)).save(jpg, "JPEG")
    err = error_of(edit(c, [("image", ("a.jpg", jpg.getvalue(), "image/jpeg"))], model="dall-e-2", prompt="x"), 400)
    assert err["code"] == "invalid_image_format"


def test_gpt_edit_without_mask_restyles_the_whole_picture(c):
    src = picture((1024, 1024))
    (out,) = images_of(edit(c, [("image", ("a.png", png(src), "image/png"))], model="gpt-image-1",
                             prompt="as a watercolor"))
    assert out.size == (1024, 1024)
    assert mean_diff(out, src) > 5
    assert correlation(out, src) > 0.5  # still recognisably the input


def test_gpt_edit_auto_size_follows_the_input_aspect(c):
    src = picture((600, 900))
    (out,) = images_of(edit(c, [("image", ("a.png", png(src), "image/png"))], model="gpt-image-1.5", prompt="x"))
    assert out.size == (1024, 1536)
    body = edit(c, [("image", ("a.png", png(src), "image/png"))], model="gpt-image-1.5", prompt="x").json()
    assert body["size"] == "1024x1536"


def test_gpt_edit_takes_several_images_and_jpeg_webp(c):
    files = []
    for i, fmt in enumerate(("PNG", "JPEG", "WEBP")):
        buf = io.BytesIO()
        picture((512, 512), seed=i).save(buf, fmt)
        files.append(("image[]", (f"{i}.{fmt.lower()}", buf.getvalue(), f"image/{fmt.lower()}")))
    (out,) = images_of(edit(c, files, model="gpt-image-1", prompt="a basket with these"))
    assert out.size == (1024, 1024)
    too_many = [("image[]", (f"{i}.png", png(picture((64, 64))), "image/png")) for i in range(17)]
    err = error_of(edit(c, too_many, model="gpt-image-1", prompt="x"), 400)
    assert err["param"] == "image"


def test_gpt_edit_streams_edit_events(c):
    r = edit(c, [("image", ("a.png", png(picture((1024, 1024))), "image/png"))], model="gpt-image-1",
             prompt="x", stream="true", partial_images=2)
    events = parse_sse(r.text)
    assert [e for e, _ in events] == ["image_edit.partial_image"] * 2 + ["image_edit.completed"]
    for name, data in events:
        validate_against("ImageEditStreamEvent", data)
        validate_against("ImageEditPartialImageEvent" if "partial" in name else "ImageEditCompletedEvent", data)


def test_edit_is_deterministic(c):
    files = [("image", ("a.png", png(picture((1024, 1024))), "image/png")),
             ("mask", ("m.png", mask_png((1024, 1024), (0, 0, 500, 500)), "image/png"))]
    a = edit(c, files, model="gpt-image-1", prompt="a moon").json()["data"][0]["b64_json"]
    b = edit(c, files, model="gpt-image-1", prompt="a moon").json()["data"][0]["b64_json"]
    assert a == b


def test_mask_must_match_and_have_alpha(c):
    img = ("image", ("a.png", png(picture((512, 512))), "image/png"))
    err = error_of(edit(c, [img, ("mask", ("m.png", mask_png((256, 256), (0, 0, 9, 9)), "image/png"))],
                        model="gpt-image-1", prompt="x"), 400)
    assert err["param"] == "mask"
    err = error_of(edit(c, [img, ("mask", ("m.png", png(picture((512, 512))), "image/png"))],
                        model="gpt-image-1", prompt="x"), 400)
    assert err["param"] == "mask"


@pytest.mark.parametrize("payload", [b"", b"not an image at all", png(picture((64, 64)))[:120],
                                     b"GIF89a" + b"\x00" * 40])
def test_non_images_and_truncated_images_are_400(c, payload):
    err = error_of(edit(c, [("image", ("a.png", payload, "image/png"))], model="gpt-image-1", prompt="x"), 400)
    assert err["param"] == "image" and err["code"] == "invalid_image_format"


def test_unsupported_format_is_400(c):
    buf = io.BytesIO()
    picture((64, 64)).save(buf, "GIF")
    err = error_of(edit(c, [("image", ("a.gif", buf.getvalue(), "image/gif"))], model="gpt-image-1", prompt="x"), 400)
    assert err["code"] == "invalid_image_format" and "gif" in err["message"]


def test_edit_refused_by_models_without_edits(c):
    for m in MODELS.values():
        if not m.edit:
            err = error_of(edit(c, [("image", ("a.png", png(picture()), "image/png"))], model=m.id, prompt="x"), 400)
            assert err["param"] == "model"


def test_edit_missing_parts(c):
    assert error_of(edit(c, [], model="gpt-image-1", prompt="x"), 400)  # (not even multipart)
    only_prompt = [("prompt", (None, b"x")), ("model", (None, b"gpt-image-1"))]
    err = error_of(c.post(EDIT, files=only_prompt, headers=AUTH), 400)
    assert (err["param"], err["code"]) == ("image", "missing_required_parameter")
    err = error_of(edit(c, [("image", ("a.png", png(picture()), "image/png"))], model="gpt-image-1"), 400)
    assert (err["param"], err["code"]) == ("prompt", "missing_required_parameter")


# --- JSON edits --------------------------------------------------------------------------------
def data_url(img: Image.Image) -> str:
    return "data:image/png;base64," + base64.b64encode(png(img)).decode()


def test_json_edit_with_data_urls_and_mask(c):
    src = picture((1024, 1024))
    mask = Image.open(io.BytesIO(mask_png((1024, 1024), (10, 10, 200, 200))))
    r = c.post(EDIT, json={"model": "gpt-image-1.5", "prompt": "a sun", "images": [{"image_url": data_url(src)}],
                           "mask": {"image_url": data_url(mask)}}, headers=AUTH)
    (out,) = images_of(r)
    assert out.crop((300, 300, 1024, 1024)).tobytes() == src.crop((300, 300, 1024, 1024)).tobytes()


def test_json_edit_can_use_a_sandbox_url(c):
    url = c.post("/v1/images/generations", json={"model": "dall-e-2", "prompt": "x", "size": "256x256"},
                 headers=AUTH).json()["data"][0]["url"]
    r = c.post(EDIT, json={"model": "gpt-image-1", "prompt": "y", "images": [{"image_url": url}]}, headers=AUTH)
    assert r.status_code == 200, r.text


def test_json_edit_refusals(c):
    def post(body):
        return c.post(EDIT, json=body, headers=AUTH)

    assert error_of(post({"model": "gpt-image-1", "prompt": "x", "images": [{"file_id": "file-1"}]}), 400)
    assert error_of(post({"model": "gpt-image-1", "prompt": "x", "images": [{"image_url": "https://e.com/a.png"}]}),
                    400)["code"] == "invalid_image_url"
    assert error_of(post({"model": "gpt-image-1", "prompt": "x", "images": []}), 400)["param"] == "images"
    assert error_of(post({"model": "gpt-image-1", "prompt": "x"}), 400)["param"] == "images"
    assert error_of(post({"model": "gpt-image-1", "prompt": "x", "images": [{"image_url": "x", "file_id": "y"}]}),
                    400)
    dalle = [m for m in MODELS.values() if m.edit and not m.edit_json]
    for m in dalle:
        err = error_of(post({"model": m.id, "prompt": "x", "images": [{"image_url": data_url(picture())}]}), 400)
        assert err["param"] == "model"


# --- variations --------------------------------------------------------------------------------
def test_variation_is_recognisably_the_reference(c):
    ref = picture((512, 512), seed=0)
    other = picture((512, 512), seed=2).rotate(90)
    r = c.post(VAR, files={"image": ("r.png", png(ref), "image/png")},
               data={"n": "2", "size": "512x512", "response_format": "b64_json"}, headers=AUTH)
    outs = images_of(r)
    assert len(outs) == 2 and outs[0].size == (512, 512)
    for out in outs:
        assert correlation(out, ref) > 0.8
        assert correlation(out, ref) > correlation(out, other) + 0.2
        assert mean_diff(out, ref) > 3  # but not a copy
    assert mean_diff(outs[0], outs[1]) > 1  # and each variation differs


def test_variation_defaults_and_refusals(c):
    ref = png(picture((256, 256)))
    body = c.post(VAR, files={"image": ("r.png", ref, "image/png")}, headers=AUTH).json()
    validate_against("ImagesResponse", body)
    assert "url" in body["data"][0]  # dall-e-2's default response_format
    for m in MODELS.values():
        if not m.variation:
            err = error_of(c.post(VAR, files={"image": ("r.png", ref, "image/png")}, data={"model": m.id},
                                  headers=AUTH), 400)
            assert err["param"] == "model"
    err = error_of(c.post(VAR, files={"image": ("r.png", png(picture((300, 200))), "image/png")}, headers=AUTH), 400)
    assert err["param"] == "image"
    err = error_of(c.post(VAR, files={"image": ("r.png", ref, "image/png")}, data={"prompt": "x"}, headers=AUTH), 400)
    assert (err["param"], err["code"]) == ("prompt", "unknown_parameter")
    err = error_of(c.post(VAR, json={"image": "x"}, headers=AUTH), 400)
    assert "multipart" in err["message"]
