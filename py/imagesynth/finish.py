"""After the API answers: paste back, resample to ImageSize, write parameters.

An edit's result is first mapped back into the original's frame (undoing the
square padding and the upload scaling recorded in ``placement``), because
pasting back is only exact at the original's own pixels.  Generations and
variations follow the size plan instead: crop to the target's aspect, resample.

When nothing is to change (no crop, no resample, no paste-back, the format the
user asked for), the API's bytes are kept as they are: checked by their header
(format allow-list, byte and pixel limits, not cut short) instead of decoded and
encoded again, with the parameters written into the PNG's text chunks.  That is
most results, and it spares a decode and a PNG encode per image.
"""

from __future__ import annotations

from typing import Any

from .errors import ImageInputError
from .imaging import sniff
from .imaging.base import Imaging, Limits
from .pngmeta import scrub, write_params
from .prepare import PreparedEdit
from .result import GeneratedImage
from .sizes import SizePlan

_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
#: the API's answer is trusted more than a user's file, but still decoded with limits
_RESULT_LIMITS = Limits(max_bytes=128 * 1024 * 1024, formats=("png", "jpeg", "webp"))


async def finish_image(imaging: Imaging, data: bytes, *, plan: SizePlan, params: dict[str, Any],
                       prepared: PreparedEdit | None = None, paste_back: bool = True,
                       feather: int = 8, output_format: str = "png", index: int = 0) -> GeneratedImage:
    fmt = (output_format or "png").lower().replace("jpg", "jpeg")
    params = dict(params)
    kept = _passthrough(data, fmt, plan, prepared, params)
    if kept is not None:
        encoded, (width, height) = kept
        return GeneratedImage(data=encoded, mime=_MIME[fmt], width=width, height=height,
                              params=scrub(params), picture=imaging.lazy_picture(encoded, fmt), index=index)
    pic = await imaging.decode(data, _RESULT_LIMITS)
    if prepared is not None and prepared.inpaint:
        pic = await _to_original_frame(imaging, pic, prepared, full_size=paste_back)
        original = await _original_for_paste_back(imaging, prepared, params) if paste_back else None
        if original is not None:
            pic = await imaging.paste_back(original, pic, await prepared.paste_back_mask(imaging), feather)
        params.setdefault("pasted_back", original is not None)
        if plan.target is not None:
            pic = await _cover(imaging, pic, plan.target)
    else:
        if plan.crop is not None:
            pic = await imaging.crop(pic, _scaled_box(plan.crop, plan.generated, imaging.size(pic)))
        if plan.target is not None and imaging.size(pic) != tuple(plan.target):
            pic = await _cover(imaging, pic, plan.target)

    encoded = await imaging.encode(pic, fmt, keep_alpha=False)  # no alpha channel where none is used
    if fmt == "png":
        encoded = write_params(encoded, params)
    width, height = imaging.size(pic)
    return GeneratedImage(data=encoded, mime=_MIME.get(fmt, "application/octet-stream"), width=width,
                          height=height, params=scrub(params), picture=pic, index=index)


def _passthrough(data: bytes, fmt: str, plan: SizePlan, prepared: PreparedEdit | None,
                 params: dict[str, Any]) -> tuple[bytes, tuple[int, int]] | None:
    """The API's bytes as the result (PNG: with ``params`` written in) and their size, when
    finishing would not change a pixel; else None (then the image is decoded and re-encoded)."""
    if fmt not in _MIME or (prepared is not None and prepared.inpaint):
        return None
    data = bytes(data)
    try:
        got, w, h = sniff.check(data, _RESULT_LIMITS.max_bytes, _RESULT_LIMITS.max_pixels,
                                _RESULT_LIMITS.formats)
    except ImageInputError:
        return None  # the decoder says what is wrong, in its words
    if got != fmt or not sniff.looks_complete(data, fmt):
        return None
    if plan.crop is not None and _scaled_box(plan.crop, plan.generated, (w, h)) != (0, 0, w, h):
        return None
    if plan.target is not None and tuple(plan.target) != (w, h):
        return None
    if _orientation_or_frames(data, fmt):
        return None  # decoding would turn it upright / take the first frame
    if fmt == "png":
        try:
            data = write_params(data, params)
        except ValueError:  # e.g. bytes after IEND: let the decoder judge it
            return None
    return data, (w, h)


def _orientation_or_frames(data: bytes, fmt: str) -> bool:
    """EXIF (an orientation the decoder would apply) or animation, found in the header part."""
    if fmt == "png":
        head = data[: max(data.find(b"IDAT"), 0)]
        return b"eXIf" in head or b"acTL" in head
    if fmt == "jpeg":
        return b"Exif\x00\x00" in data[:65536]
    if fmt == "webp":
        return len(data) > 20 and data[12:16] == b"VP8X" and bool(data[20] & 0x0A)  # EXIF or animation
    return True


async def _original_for_paste_back(imaging: Imaging, prepared: PreparedEdit, params: dict[str, Any]) -> Any:
    """The original at its own size, or None with a warning in ``params``.  A large JPEG was
    decoded smaller for its upload and is decoded in full only now, after the model has
    answered (and been paid): should that fail (a browser out of memory), the image is
    delivered with the model's own pixels everywhere rather than lost."""
    try:
        return await prepared.original_picture(imaging)
    except Exception as exc:  # noqa: BLE001 - any failure here must not cost the paid image
        detail = str(exc) or type(exc).__name__
        params["warnings"] = [*params.get("warnings", []),
                              f"The original could not be decoded in full to paste it back ({detail}): "
                              "this image has the model's pixels everywhere, also outside the mask."]
        return None


async def _to_original_frame(imaging: Imaging, pic: Any, prepared: PreparedEdit, *, full_size: bool) -> Any:
    """The part of the result that covers the original, at the original's size (for paste-back)
    or at the result's own resolution with the original's aspect (no upscaling for nothing)."""
    rw, rh = imaging.size(pic)
    uw, uh = prepared.upload_size
    left, top, pw, ph = prepared.placement
    if not (pw and ph):  # no placement recorded: the upload was the original, unpadded
        left, top, pw, ph = 0, 0, uw, uh
    sx, sy = rw / uw, rh / uh  # the model may answer at another size (or aspect) than uploaded
    box = (round(left * sx), round(top * sy), round((left + pw) * sx), round((top + ph) * sy))
    if box != (0, 0, rw, rh):
        pic = await imaging.crop(pic, box)
    ow, oh = prepared.original_size
    if full_size:
        size = (ow, oh)
    else:
        cw, ch = box[2] - box[0], box[3] - box[1]
        k = max(cw, ch) / max(ow, oh)
        size = (max(1, round(ow * k)), max(1, round(oh * k)))
    return await imaging.resize(pic, size) if imaging.size(pic) != size else pic


def _scaled_box(box, generated, actual) -> tuple[int, int, int, int]:
    """The plan's crop box, rescaled if the model answered at another size than planned."""
    if not generated or tuple(generated) == tuple(actual):
        return tuple(box)
    sx, sy = actual[0] / generated[0], actual[1] / generated[1]
    return (round(box[0] * sx), round(box[1] * sy), round(box[2] * sx), round(box[3] * sy))


async def _cover(imaging: Imaging, pic: Any, target: tuple[int, int]) -> Any:
    """Center-crop to the target's aspect, then resample to it: the user asked for that size."""
    w, h = imaging.size(pic)
    tw, th = target
    if w * th > h * tw:
        cw = max(1, round(h * tw / th))
        pic = await imaging.crop(pic, ((w - cw) // 2, 0, (w - cw) // 2 + cw, h))
    elif w * th < h * tw:
        ch = max(1, round(w * th / tw))
        pic = await imaging.crop(pic, (0, (h - ch) // 2, w, (h - ch) // 2 + ch))
    return await imaging.resize(pic, (tw, th)) if imaging.size(pic) != (tw, th) else pic
