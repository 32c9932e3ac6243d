"""The four call forms → a Task; anything else is a clear InputError."""


import pytest

from imagesynth.errors import ImageInputError, InputError
from imagesynth.tasks import task_from_spec

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def test_text_is_generate():
    t = task_from_spec("a pond")
    assert (t.kind, t.prompt, t.image, t.mask) == ("generate", "a pond", None, None)


def test_bytes_is_variation():
    t = task_from_spec(PNG)
    assert t.kind == "vary" and t.image == PNG and t.prompt is None


def test_bytearray_and_memoryview_become_bytes():
    assert task_from_spec(bytearray(PNG)).image == PNG
    assert task_from_spec(memoryview(PNG)).image == PNG


def test_path_is_read_now(tmp_path):
    p = tmp_path / "cat.png"
    p.write_bytes(PNG)
    t = task_from_spec(p)
    assert t.kind == "vary" and t.image == PNG


def test_missing_path_is_input_error(tmp_path):
    with pytest.raises(ImageInputError, match="does not exist"):
        task_from_spec(tmp_path / "nope.png")


def test_folder_path_is_input_error(tmp_path):
    with pytest.raises(ImageInputError, match="folder"):
        task_from_spec(tmp_path)


def test_pil_image_is_variation():
    from PIL import Image

    img = Image.new("RGB", (8, 8))
    t = task_from_spec(img)
    assert t.kind == "vary" and t.image is img


@pytest.mark.parametrize("keys", [("Text", "Image"), ("text", "image"), ("TEXT", "iMaGe")])
def test_text_image_is_inpaint_any_case(keys):
    t = task_from_spec({keys[0]: "a hat", keys[1]: PNG})
    assert (t.kind, t.prompt, t.image, t.mask) == ("inpaint", "a hat", PNG, None)


def test_text_image_mask_is_inpaint_under_mask(tmp_path):
    m = tmp_path / "mask.png"
    m.write_bytes(PNG + b"m")
    t = task_from_spec({"Text": "a hat", "Image": PNG, "Mask": m})
    assert t.kind == "inpaint" and t.mask == PNG + b"m"


def test_image_only_dict_is_variation_and_text_only_is_generate():
    assert task_from_spec({"Image": PNG}).kind == "vary"
    assert task_from_spec({"Text": "x"}).kind == "generate"


@pytest.mark.parametrize("spec, words", [
    ("", "empty"),
    ("   ", "empty"),
    ({}, "empty"),
    ({"Text": "a", "Picture": PNG}, "unknown key"),
    ({"Text": "a", "text": "b"}, "twice"),
    ({"Mask": PNG}, "needs the \"Image\""),
    ({"Image": PNG, "Mask": PNG}, "needs \"Text\""),
    ({"Text": 3, "Image": PNG}, "must be a string"),
    ({"Text": "a", "Image": "cat.png"}, "plain string"),
    ({"Text": "a", "Image": [1, 2]}, "not list"),
    (42, "cannot synthesize from int"),
    (None, "cannot synthesize from NoneType"),
    (["a", "b"], "cannot synthesize from list"),
    (b"", "empty"),
])
def test_bad_specs(spec, words):
    with pytest.raises(InputError) as e:
        task_from_spec(spec)
    assert words in str(e.value)


def test_repr_does_not_dump_bytes():
    assert "bytes>" in repr(task_from_spec(PNG * 1000)) and "\\x00" not in repr(task_from_spec(PNG))
