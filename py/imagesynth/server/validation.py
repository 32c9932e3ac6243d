"""Request checks: a parsed request body becomes a ``Job`` or a ``SandboxError``.

What each model accepts comes from the core's model table
(``imagesynth.models``), never from model names here: the sandbox refuses
exactly what the table says the real model refuses, with OpenAI's status,
wording and error codes.  Everything is synchronous and CPU-bound (image
decoding), so the server runs it in a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

from PIL import Image, UnidentifiedImageError

from .. import models
from ..models import ModelProfile
from . import apierrors as E
from .apierrors import SandboxError

# The contract's defaults when a request names no model.
DEFAULT_MODEL = {"generate": "dall-e-2", "edit": "gpt-image-1.5", "variation": "dall-e-2"}
GPT_DEFAULT = "gpt-image-1.5"  # generations switch to it when a GPT-only parameter is used
MAX_PIXELS = 40_000_000  # decoded input images above this are refused (decompression bombs)
INT_PARAMS = {"n", "partial_images", "output_compression"}
BOOL_PARAMS = {"stream"}
# Parameters the contract types as strings: checked in `_typed`.
_PIL_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tiff"}
_SIZE_RE = re.compile(r"^(\d{1,5})x(\d{1,5})$")


@dataclass
class Job:
    """A valid request, with every default filled in and every input decoded."""

    operation: str  # "generate" | "edit" | "variation"
    profile: ModelProfile
    model: str
    prompt: str | None
    n: int
    width: int
    height: int
    requested_size: str
    quality: str  # as resolved ("auto" → a concrete value), for echoing
    background: str  # as resolved
    output_format: str
    output_compression: int
    response_format: str  # "url" | "b64_json"
    stream: bool
    partial_images: int
    options: dict[str, Any] = field(default_factory=dict)  # everything that shapes the picture
    images: list[Image.Image] = field(default_factory=list)
    image_digests: list[str] = field(default_factory=list)
    edit_mask: Image.Image | None = None  # L, 255 where the edit goes

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


# --- bodies --------------------------------------------------------------------------------
def parse_json_object(raw: bytes) -> dict[str, Any]:
    import json

    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise E.bad_json() from None
    if not isinstance(body, dict):
        raise E.bad_json()
    return body


def _is_file(v: Any) -> bool:
    return hasattr(v, "file") and hasattr(v, "filename")


# --- scalar parameters ---------------------------------------------------------------------
def _typed(name: str, value: Any, from_form: bool) -> Any:
    """``value`` checked against the contract's type of ``name``; form fields
    (always strings) are converted first."""
    if _is_file(value):
        raise E.invalid_type(name, _expected(name), value)
    if name in INT_PARAMS:
        if from_form and isinstance(value, str) and re.fullmatch(r"-?\d{1,9}", value.strip()):
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise E.invalid_type(name, "an integer", value)
        return value
    if name in BOOL_PARAMS:
        if from_form and isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise E.invalid_type(name, "a boolean", value)
        return value
    if not isinstance(value, str):
        raise E.invalid_type(name, "a string", value)
    return value


def _expected(name: str) -> str:
    return "an integer" if name in INT_PARAMS else "a boolean" if name in BOOL_PARAMS else "a string"


def _choose_model(operation: str, fields: dict[str, Any], from_form: bool) -> str:
    model = fields.get("model")
    if model is None or model == "":
        model = DEFAULT_MODEL[operation]
        if operation == "generate":
            # The contract: dall-e-2 unless a parameter specific to the GPT image models is used.
            dalle = models.profile_for(model)
            gpt = models.profile_for(GPT_DEFAULT)
            if dalle and gpt and any(k in gpt.generate_params and k not in dalle.generate_params
                                     for k, v in fields.items() if v is not None):
                model = GPT_DEFAULT
        return model
    return _typed("model", model, from_form)


def _profile(operation: str, model: str) -> ModelProfile:
    profile = models.profile_for(model)
    if profile is None:
        raise SandboxError(404, f"The model `{model}` does not exist or you do not have access to it.",
                           param="model", code="model_not_found")
    if not profile.supports(operation):
        able = [m.id for m in models.MODELS.values() if m.supports(operation)]
        raise E.invalid_value("model", model, able, f"The model does not support {operation} requests.")
    return profile


def _parse_size(text: str) -> tuple[int, int] | None:
    m = _SIZE_RE.match(text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _check_size(profile: ModelProfile, size: str) -> tuple[int, int] | None:
    """(w, h) for a size the model makes; None for "auto"."""
    rule = profile.sizes
    if size == "auto" and rule.auto:
        return None
    if size in rule.fixed:
        return _parse_size(size)
    allowed = (*rule.fixed, *(("auto",) if rule.auto else ()))
    wh = _parse_size(size)
    if rule.arbitrary and wh:
        w, h = wh
        problems = []
        if w % rule.multiple_of or h % rule.multiple_of:
            problems.append(f"width and height must be multiples of {rule.multiple_of}")
        if rule.max_edge and max(w, h) > rule.max_edge:
            problems.append(f"the longest edge must be at most {rule.max_edge}")
        if rule.min_pixels and w * h < rule.min_pixels:
            problems.append(f"the image must have at least {rule.min_pixels} pixels")
        if rule.max_pixels and w * h > rule.max_pixels:
            problems.append(f"the image must have at most {rule.max_pixels} pixels")
        if min(w, h) == 0 or max(w, h) / min(w, h) > rule.max_aspect:
            problems.append(f"the aspect ratio must be at most {rule.max_aspect:g}:1")
        if not problems:
            return wh
        raise E.invalid_value("size", size, None, "For this model " + "; ".join(problems) + ".")
    raise E.invalid_value("size", size, allowed)


def _default_size(profile: ModelProfile, operation: str) -> str:
    rule = profile.sizes
    if rule.auto:
        return "auto"
    return "1024x1024" if "1024x1024" in rule.fixed else rule.fixed[0]


def _auto_size(profile: ModelProfile, like: Image.Image | None) -> tuple[int, int]:
    """What "auto" makes: the fixed size nearest the input image's aspect (square without one)."""
    sizes = [_parse_size(s) for s in profile.sizes.fixed]
    sizes = [s for s in sizes if s] or [(1024, 1024)]
    if like is None:
        return (1024, 1024) if (1024, 1024) in sizes else sizes[0]
    aspect = like.width / max(1, like.height)
    return min(sizes, key=lambda wh: abs(wh[0] / wh[1] - aspect))


# --- images --------------------------------------------------------------------------------
def decode_image(data: bytes, *, param: str, index: int, formats: tuple[str, ...], max_bytes: int,
                 model: str) -> Image.Image:
    """Decode an upload safely: size limit, format allow-list, pixel limit, fully loaded."""
    if not data:
        raise E.invalid_image(param, f"Invalid image file for '{param}' (image {index + 1}): the file is empty.")
    if len(data) > max_bytes:
        raise E.invalid_image(param, f"Image file for '{param}' is too large ({len(data)} bytes); {model} accepts "
                                     f"files under {max_bytes // (1024 * 1024)} MB.", code="image_too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            fmt = _PIL_FORMATS.get(im.format or "", (im.format or "unknown").lower())
            if fmt not in formats:
                raise E.invalid_image(param, f"Invalid file '{param}': unsupported image format ({fmt}). Supported "
                                             f"formats for {model} are: {', '.join(formats)}.")
            if im.width * im.height > MAX_PIXELS:
                raise E.invalid_image(param, f"Image for '{param}' has too many pixels ({im.width}x{im.height}).",
                                      code="image_too_large")
            im.load()
    except SandboxError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise E.invalid_image(param, f"Invalid image file or mode for image {index + 1} ('{param}'), please check "
                                     "your image file: it could not be read as an image.") from None
    return im


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info)


def _transparent_area(im: Image.Image) -> Image.Image:
    """L image, 255 where ``im`` is fully transparent: the area to edit."""
    alpha = im.convert("RGBA").getchannel("A")
    return alpha.point([255] + [0] * 255)


def _data_url_bytes(url: str, param: str) -> bytes:
    head, _, payload = url.partition(",")
    if not head.startswith("data:") or ";base64" not in head:
        raise E.invalid_image(param, f"Invalid '{param}': expected a base64 data URL.", code="invalid_image_url")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise E.invalid_image(param, f"Invalid '{param}': the data URL is not valid base64.",
                              code="invalid_image_url") from None


def _ref_bytes(ref: Any, param: str, resolve_url: Callable[[str], bytes | None]) -> bytes:
    """The bytes an ``ImageRefParam`` points at: a data URL or an image this sandbox served."""
    if not isinstance(ref, dict):
        raise E.invalid_type(param, "an object", ref)
    extra = set(ref) - {"image_url", "file_id"}
    if extra:
        raise E.unknown_parameter(f"{param}.{sorted(extra)[0]}")
    if ("image_url" in ref) == ("file_id" in ref):
        raise SandboxError(400, f"Invalid '{param}': provide exactly one of 'image_url' or 'file_id'.",
                           param=param, code="invalid_value")
    if "file_id" in ref:
        raise SandboxError(400, f"Invalid '{param}.file_id': the sandbox has no Files API; use an image_url "
                                "(a data: URL).", param=f"{param}.file_id", code="invalid_value")
    url = ref["image_url"]
    if not isinstance(url, str):
        raise E.invalid_type(f"{param}.image_url", "a string", url)
    if url.startswith("data:"):
        return _data_url_bytes(url, f"{param}.image_url")
    found = resolve_url(url)
    if found is None:
        raise E.invalid_image(f"{param}.image_url", "The sandbox is offline and fetches no remote URLs: pass the "
                                                    "image as a data: URL.", code="invalid_image_url")
    return found


# --- the request -----------------------------------------------------------------------------
def build_job(operation: str, fields: dict[str, Any], *, from_form: bool,
              resolve_url: Callable[[str], bytes | None] = lambda url: None) -> Job:
    """Check a request as the real API would and return the ``Job`` to run.

    ``fields``: the JSON object, or the multipart form as a dict whose values
    are strings, ``UploadFile`` objects, or lists of them (repeated fields).
    """
    if not from_form:
        fields = {k: v for k, v in fields.items() if v is not None}  # the contract's nullable = absent
    model = _choose_model(operation, fields, from_form)
    profile = _profile(operation, model)
    params = profile.params_for(operation)

    # Which fields this model takes here.
    base = {"model"}
    if operation != "variation":
        base.add("prompt")
    if operation == "edit":
        base |= {"image", "image[]", "mask"} if from_form else {"images", "mask"}
        if not from_form and not profile.edit_json:
            raise SandboxError(400, f"JSON edit requests are not supported for {model}: send multipart/form-data "
                                    "with an 'image' file.", param="model", code="invalid_value")
    if operation == "variation":
        base.add("image")
    for key in fields:
        if key not in base and key not in params:
            raise E.unknown_parameter(key)

    # Only the first value of a repeated scalar form field counts.
    def one(name: str) -> Any:
        v = fields.get(name)
        if isinstance(v, list):
            v = v[0] if v else None
        return v

    prompt = None
    if "prompt" in base:
        prompt = one("prompt")
        if prompt is None:
            raise E.missing("prompt")
        prompt = _typed("prompt", prompt, from_form)
        if not prompt.strip():
            raise E.empty_string("prompt")
        if len(prompt) > profile.max_prompt:
            raise E.string_too_long("prompt", len(prompt), profile.max_prompt)

    values: dict[str, Any] = {}
    for name, allowed in params.items():
        raw = one(name)
        if raw is None or (from_form and raw == "" and name not in ("user",)):
            continue
        v = _typed(name, raw, from_form)
        if allowed is not None and v not in allowed:
            raise E.invalid_value(name, v if not isinstance(v, bool) else str(v).lower(), allowed)
        values[name] = v

    n = values.get("n", 1)
    if not 1 <= n <= profile.max_n:
        raise E.integer_out_of_range("n", n, 1, profile.max_n)
    output_format = values.get("output_format", "png")
    compression = values.get("output_compression", 100)
    if not 0 <= compression <= 100:
        raise E.integer_out_of_range("output_compression", compression, 0, 100)
    if output_format == "png" and compression != 100:
        raise E.invalid_value("output_compression", compression, None,
                              "Compression less than 100 is not supported for PNG output format.")
    background = values.get("background", "auto")
    if background == "transparent":
        if not profile.transparent_background:
            raise E.invalid_value("background", background, None, f"{model} makes no transparent backgrounds.")
        if output_format not in ("png", "webp"):
            raise E.invalid_value("background", background, None,
                                  "Transparent background requires output_format 'png' or 'webp'.")
    stream = bool(values.get("stream", False))
    partial_images = values.get("partial_images", 0) if stream else 0
    if partial_images > profile.max_partial_images:
        raise E.integer_out_of_range("partial_images", partial_images, 0, profile.max_partial_images)

    requested_size = values.get("size") or _default_size(profile, operation)
    wh = _check_size(profile, requested_size)

    # Input images.
    images: list[Image.Image] = []
    digests: list[str] = []
    edit_mask = None
    if operation in ("edit", "variation"):
        if from_form:
            uploads = []
            for name in ("image", "image[]"):
                v = fields.get(name)
                uploads += v if isinstance(v, list) else [v] if v is not None else []
            if not uploads:
                raise E.missing("image")
            if operation == "variation" and len(uploads) > 1:
                raise SandboxError(400, "Variations take exactly one 'image'.", param="image", code="invalid_value")
            blobs = []
            for up in uploads:
                if not _is_file(up):
                    raise E.invalid_type("image", "a file", up)
                up.file.seek(0)
                blobs.append(up.file.read())
        else:
            refs = fields.get("images")
            if refs is None:
                raise E.missing("images")
            if not isinstance(refs, list):
                raise E.invalid_type("images", "an array", refs)
            if not refs:
                raise SandboxError(400, "Invalid 'images': empty array. Expected an array with minimum length 1.",
                                   param="images", code="empty_array")
            blobs = [_ref_bytes(r, f"images[{i}]", resolve_url) for i, r in enumerate(refs)]
        limit = profile.max_edit_images if operation == "edit" else 1
        if len(blobs) > limit:
            raise SandboxError(400, f"Too many images: {model} takes at most {limit}, got {len(blobs)}.",
                               param="image", code="invalid_value")
        for i, blob in enumerate(blobs):
            im = decode_image(blob, param="image", index=i, formats=profile.edit_formats,
                              max_bytes=profile.edit_max_bytes, model=model)
            if profile.edit_square and im.width != im.height:
                raise E.invalid_image("image", f"Invalid input image - image must be square, got "
                                               f"{im.width}x{im.height}.")
            images.append(im)
            digests.append(hashlib.sha256(blob).hexdigest())

        if operation == "edit":
            mask_field = one("mask")
            if mask_field is not None:
                if from_form:
                    if not _is_file(mask_field):
                        raise E.invalid_type("mask", "a file", mask_field)
                    mask_field.file.seek(0)
                    mblob = mask_field.file.read()
                else:
                    mblob = _ref_bytes(mask_field, "mask", resolve_url)
                mask = decode_image(mblob, param="mask", index=0, formats=("png",),
                                    max_bytes=profile.edit_mask_max_bytes, model=model)
                if not _has_alpha(mask):
                    raise E.invalid_image("mask", "Invalid mask image format - the mask must be a PNG with an alpha "
                                                  f"channel (RGBA), got mode {mask.mode}.")
                if mask.size != images[0].size:
                    raise E.invalid_image("mask", f"Invalid mask: the mask ({mask.width}x{mask.height}) must have the "
                                                  f"same dimensions as the image ({images[0].width}x"
                                                  f"{images[0].height}).", code="invalid_value")
                edit_mask = _transparent_area(mask)
                digests.append("mask:" + hashlib.sha256(mblob).hexdigest())
            elif profile.edit_requires_rgba:
                if images[0].mode not in ("RGBA", "LA", "L") and not _has_alpha(images[0]):
                    raise E.invalid_image("image", "Invalid input image - format must be in ['RGBA', 'LA', 'L'], "
                                                   f"got {images[0].mode}.")
                edit_mask = _transparent_area(images[0])

    width, height = wh if wh else _auto_size(profile, images[0] if images else None)
    quality = values.get("quality", "auto")
    if quality == "auto":
        quality = "medium" if profile.reports_usage else "standard"
    resolved_background = "opaque" if background == "auto" else background
    response_format = values.get("response_format", "url" if profile.response_format else "b64_json")
    shaping = {k: v for k, v in values.items()
               if k not in ("n", "stream", "partial_images", "response_format", "user", "output_compression")}
    return Job(operation=operation, profile=profile, model=model, prompt=prompt, n=n, width=width, height=height,
               requested_size=requested_size, quality=quality, background=resolved_background,
               output_format=output_format, output_compression=compression, response_format=response_format,
               stream=stream, partial_images=partial_images, options=shaping, images=images,
               image_digests=digests, edit_mask=edit_mask)


def usage(job: Job) -> dict[str, Any]:
    """Token usage in the contract's shape; deterministic, roughly OpenAI's rates."""
    per_mp = {"low": 272, "medium": 1056, "high": 4160}.get(job.quality, 1056)
    out = max(1, round(per_mp * job.width * job.height / (1024 * 1024))) * job.n
    text = max(1, len(job.prompt or "") // 4)
    img = 323 * len(job.images)
    return {"total_tokens": text + img + out, "input_tokens": text + img, "output_tokens": out,
            "input_tokens_details": {"text_tokens": text, "image_tokens": img}}
