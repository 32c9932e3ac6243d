"""After the API answers: paste back, resample to ImageSize, write parameters.

An edit's result is first mapped back into the original's frame (undoing the
square padding and the upload scaling recorded in ``placement``), because
pasting back is only exact at the original's own pixels.  Generations and
variations follow the size plan instead: crop to the target's aspect, resample.
"""

from __future__ import annotations

from typing import Any

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
    pic = await imaging.decode(data, _RESULT_LIMITS)
    params = dict(params)
    if prepared is not None and prepared.paint_mask is not None:
        pic = await _to_original_frame(imaging, pic, prepared, full_size=paste_back)
        if paste_back:
            pic = await imaging.paste_back(prepared.original, pic, prepared.paint_mask, feather)
        params.setdefault("pasted_back", bool(paste_back))
        if plan.target is not None:
            pic = await _cover(imaging, pic, plan.target)
    else:
        if plan.crop is not None:
            pic = await imaging.crop(pic, _scaled_box(plan.crop, plan.generated, imaging.size(pic)))
        if plan.target is not None and imaging.size(pic) != tuple(plan.target):
            pic = await _cover(imaging, pic, plan.target)

    encoded = await imaging.encode(pic, fmt)
    if fmt == "png":
        encoded = write_params(encoded, params)
    width, height = imaging.size(pic)
    return GeneratedImage(data=encoded, mime=_MIME.get(fmt, "application/octet-stream"), width=width,
                          height=height, params=scrub(params), picture=pic, index=index)


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
    ow, oh = imaging.size(prepared.original)
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
