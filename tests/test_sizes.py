"""ImageSize → the size to request, the crop, and the errors before any request."""

import pytest

from imagesynth.errors import InputError
from imagesynth.models import MODELS, profile_for
from imagesynth.sizes import SizePlan, center_crop, parse_image_size, resolve_size, size_allowed

GPT1 = profile_for("gpt-image-1")
GPT2 = profile_for("gpt-image-2")
DALLE2 = profile_for("dall-e-2")
DALLE3 = profile_for("dall-e-3")


@pytest.mark.parametrize("value, expected", [
    ("Small", (256, 256)), ("small", (256, 256)), ("MEDIUM", (512, 512)), (" Large ", (1024, 1024)),
    (None, None), ("Automatic", None), ("auto", None),
    ((640, 480), (640, 480)), ([300, 200], (300, 200)), ("640x480", (640, 480)), ("640 X 480", (640, 480)),
    ("640×480", (640, 480)), ((640.0, 480), (640, 480)),
])
def test_parse_image_size(value, expected):
    assert parse_image_size(value) == expected


@pytest.mark.parametrize("value, words", [
    ("Huge", ["Unknown image size 'Huge'", '"Small"', '"Medium"', '"Large"']),
    ((0, 100), ["positive"]), ((-5, 100), ["positive"]), ("0x10", ["positive"]), ("-3x10", ["positive"]),
    ((10.5, 10), ["whole numbers"]), ((True, 10), ["whole numbers"]), ((1, 2, 3), ["not a size"]),
    (42, ["not a size"]),
])
def test_parse_image_size_errors(value, words):
    with pytest.raises(InputError) as e:
        parse_image_size(value)
    for w in words:
        assert w in str(e.value)


def test_named_sizes_on_dalle2_are_native():
    for name, side in (("Small", 256), ("Medium", 512), ("Large", 1024)):
        plan = resolve_size(DALLE2, name)
        assert plan == SizePlan(target=(side, side), request=f"{side}x{side}", generated=(side, side), crop=None)
        assert not plan.needs_resample


@pytest.mark.parametrize("model", ["gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "chatgpt-image-latest"])
def test_gpt_small_generates_1024_and_resamples(model):
    plan = resolve_size(profile_for(model), "Small")
    assert (plan.request, plan.generated, plan.crop, plan.target) == ("1024x1024", (1024, 1024), None, (256, 256))
    assert plan.needs_resample


def test_same_aspect_preferred_then_smallest():
    assert resolve_size(GPT1, (768, 512)).request == "1536x1024"
    assert resolve_size(GPT1, (512, 768)).request == "1024x1536"
    assert resolve_size(GPT1, (1536, 1024)).crop is None
    assert resolve_size(DALLE3, (896, 512)).request == "1792x1024"
    assert resolve_size(DALLE3, (1024, 1024)).request == "1024x1024"


def test_other_aspect_gets_center_crop_of_target_aspect():
    plan = resolve_size(GPT1, (800, 450))  # 16:9: nearest is 3:2
    assert plan.request == "1536x1024"
    left, top, right, bottom = plan.crop
    assert (left, right) == (0, 1536) and top == 1024 - bottom  # centered vertically
    w, h = right - left, bottom - top
    assert abs(w / h - 16 / 9) < 0.01 and w >= 800 and h >= 450
    # a tall target on a square-only model: crop the sides
    plan = resolve_size(DALLE2, (200, 256))
    assert plan.request == "256x256" and plan.crop == (28, 0, 228, 256)


def test_crop_not_possible_falls_to_bigger_size():
    # 3:2 at 1100 wide: 1536x1024 covers it exactly
    assert resolve_size(GPT1, (1100, 733)).request == "1536x1024"
    # 1:1 larger than 1024 cannot be covered by 1536x1024 cropped to square (1024x1024)
    with pytest.raises(InputError, match=r"1100×1100 is larger than gpt-image-1 can make .*never up"):
        resolve_size(GPT1, (1100, 1100))


def test_too_large_lists_what_the_model_makes():
    with pytest.raises(InputError) as e:
        resolve_size(DALLE2, (2048, 2048))
    assert "dall-e-2" in str(e.value) and "256x256, 512x512 and 1024x1024" in str(e.value)
    with pytest.raises(InputError, match="3840"):
        resolve_size(GPT2, (4000, 2000))
    with pytest.raises(InputError) as e:
        resolve_size(GPT2, (5000, 5000))
    assert str(e.value) == ("5000×5000 is larger than gpt-image-2 can make (at most 3840 px on a side "
                            "and 8,294,400 pixels); choose a smaller size.")
    with pytest.raises(InputError, match="larger than gpt-image-2"):
        resolve_size(GPT2, (3000, 3000))  # edge fine, pixels too many


def test_aspect_limit():
    with pytest.raises(InputError, match=r"4\.00:1.*at most 3:1"):
        resolve_size(GPT1, (1024, 256))
    with pytest.raises(InputError, match="aspect"):
        resolve_size(GPT2, (100, 301))
    assert resolve_size(GPT1, (768, 256)).request == "1536x1024"  # exactly 3:1 is allowed


def test_gpt_image_2_arbitrary_rounds_up_to_16_and_pixel_floor():
    plan = resolve_size(GPT2, (1000, 600))
    w, h = plan.generated
    assert plan.request == f"{w}x{h}"
    assert w % 16 == 0 and h % 16 == 0 and w >= 1000 and h >= 600
    assert w * h >= GPT2.sizes.min_pixels
    assert abs(w / h - 1000 / 600) < 0.02
    small = resolve_size(GPT2, "Small")
    assert small.request == "816x816" and small.crop is None  # sqrt(655360) = 809.5 → 816
    big = resolve_size(GPT2, (3840, 2160))
    assert big.request == "3840x2160" and not big.needs_resample
    odd = resolve_size(GPT2, (1000, 1001))
    assert odd.crop is not None and odd.generated[0] >= 1000
    for plan in (plan, small, big, odd):
        assert size_allowed(GPT2, plan.request)


def test_automatic_is_model_default():
    assert resolve_size(GPT1, None) == SizePlan(target=None, request="auto", generated=None)
    assert resolve_size(GPT2, "Automatic").request == "auto"
    assert resolve_size(DALLE2, None).request == "1024x1024"
    assert resolve_size(DALLE3, None).generated == (1024, 1024)


def test_every_model_serves_named_sizes():
    for m in MODELS.values():
        for name in ("Small", "Medium", "Large"):
            plan = resolve_size(m, name)
            assert plan.generated[0] >= plan.target[0] and plan.generated[1] >= plan.target[1]
            assert size_allowed(m, plan.request), (m.id, plan)


def test_center_crop():
    assert center_crop((100, 100), (50, 50)) is None
    assert center_crop((300, 100), (1, 1)) == (100, 0, 200, 100)
    assert center_crop((100, 300), (1, 1)) == (0, 100, 100, 200)


def test_size_allowed():
    assert size_allowed(GPT1, "1536x1024") and size_allowed(GPT1, "auto")
    assert not size_allowed(GPT1, "512x512") and not size_allowed(DALLE2, "auto")
    assert size_allowed(GPT2, "1536x864")
    assert not size_allowed(GPT2, "1530x864")  # not a multiple of 16
    assert not size_allowed(GPT2, "3856x1296")  # edge
    assert not size_allowed(GPT2, "512x512")  # below the pixel floor
