"""``image_synthesize``: Wolfram's ImageSynthesize as a Python function.

Returns Pillow images, each carrying its generation parameters in ``.info``
(the parameters as keys, and the JSON of all of them under ``"imagesynth"``).
Saving one as PNG keeps the parameters: the image comes with
``img.encoderinfo = {"pnginfo": ...}`` holding the ``imagesynth`` iTXt chunk,
which ``Image.save`` merges into its arguments (tested on Pillow 13;
on older Pillow pass ``pnginfo=imagesynth.api.pnginfo_for(img)``).

Pillow, ``requests`` and the CPython transport are imported on call, not at
import, so ``import imagesynth`` works on Pyodide; the browser app drives
``orchestrate.synthesize`` with its own transport and imaging.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import fields
from typing import Any

from . import errors
from .auth import resolve
from .http import Transport
from .imaging.base import Imaging
from .models import image_models
from .orchestrate import Options, list_models, synthesize
from .endpoint import Endpoint
from .result import GeneratedImage

#: keyword arguments that steer the call rather than being sent to the model
_OPTION_NAMES = {f.name for f in fields(Options)} - {"n", "image_size", "model", "params"}
PARAMS_KEY = "imagesynth"


def image_synthesize(spec: Any, n: int | None = None, *, image_size: Any = None, model: str | None = None,
                     authentication: Any = "Automatic", progress_reporting: Any = None,
                     base_url: str | None = None, transport: Transport | None = None,
                     imaging: Imaging | None = None, **params: Any):
    """Synthesize images.  One PIL image when ``n`` is None, else a list of ``n``.

    ``spec``: a prompt; an image (bytes, ``pathlib.Path``, PIL image) for variations;
    ``{"Text": ..., "Image": ...}`` to inpaint its transparent part; with ``"Mask"`` to inpaint
    under the mask.  ``image_size``: "Small", "Medium", "Large", (w, h) or "WxH".
    ``progress_reporting``: a callback receiving ``ProgressEvent``s, or True for a terminal bar.
    ``params``: model parameters (quality, style, background, output_format, ...) and call
    options (stream, paste_back, feather, max_retries, concurrency, seed, variation_prompt).

    If some of the n images fail after retries, the error raised carries the others as
    ``error.partial_results`` (PIL images).  Inputs changed to fit (a mask of another size
    stretched to the image's) are reported with ``warnings.warn(..., ImageSynthWarning)``
    before any request, and kept in each image's ``.info["warnings"]``."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise errors.InputError("image_synthesize was called inside a running event loop; "
                                "use `await image_synthesize_async(...)` there")
    return asyncio.run(image_synthesize_async(
        spec, n, image_size=image_size, model=model, authentication=authentication,
        progress_reporting=progress_reporting, base_url=base_url, transport=transport, imaging=imaging,
        **params))


async def image_synthesize_async(spec: Any, n: int | None = None, *, image_size: Any = None,
                                 model: str | None = None, authentication: Any = "Automatic",
                                 progress_reporting: Any = None, base_url: str | None = None,
                                 transport: Transport | None = None, imaging: Imaging | None = None,
                                 **params: Any):
    """``image_synthesize`` for callers already in an event loop."""
    endpoint = resolve(authentication, base_url=base_url)
    if transport is None:
        from .transports.cpython import RequestsTransport

        transport = RequestsTransport()
    if imaging is None:
        from .imaging import default_imaging

        imaging = default_imaging()
    options = _options(n, image_size, model, params)
    available = None if model else await available_image_models(endpoint, transport)

    bar = None
    callback = progress_reporting
    if progress_reporting is True:
        from .progressbar import ProgressBar

        bar = callback = ProgressBar(options.n)
    elif progress_reporting is False:
        callback = None
    try:
        results = await synthesize(spec, endpoint, options=options, transport=transport, imaging=imaging,
                                   progress=callback, available_models=available, on_warning=_warn)
    except errors.ImageSynthError as e:
        e.partial_results = [to_pil(g) for g in e.partial_results]
        raise
    finally:
        if bar is not None:
            bar.close()
    images = [to_pil(g) for g in results]
    return images[0] if n is None else images


def _warn(message: str) -> None:
    import warnings

    warnings.warn(message, errors.ImageSynthWarning, stacklevel=2)


def _options(n: int | None, image_size: Any, model: str | None, params: dict[str, Any]) -> Options:
    opts: dict[str, Any] = {k: params.pop(k) for k in list(params) if k in _OPTION_NAMES}
    return Options(n=1 if n is None else n, image_size=image_size, model=model, params=params, **opts)


async def available_image_models(endpoint: Endpoint, transport: Transport) -> list[str] | None:
    """The image models the endpoint lists, for the default model choice; None when it cannot
    say (no listing, Azure deployments, a passing failure: the call itself will retry).  A
    refused key is raised now, before any image is paid for."""
    if endpoint.kind == "azure":
        return None
    try:
        listed = await list_models(endpoint, transport)
    except errors.AuthenticationError:
        raise
    except errors.ImageSynthError:
        return None
    return image_models(listed) or None


def pnginfo_for(img: Any):
    """A ``PngInfo`` holding the image's parameters, for ``img.save(..., pnginfo=...)``."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    text = img.info.get(PARAMS_KEY)
    if text:
        info.add_itxt(PARAMS_KEY, text)
    return info


def to_pil(gen: GeneratedImage):
    """A GeneratedImage → PIL image with its params in ``.info`` and kept by ``save()``."""
    from PIL import Image
    import io

    img = gen.picture
    # a jpeg/webp result is returned as encoded (RGB for jpeg), so saving it again just works
    if not isinstance(img, Image.Image) or gen.mime != "image/png":
        img = Image.open(io.BytesIO(gen.data))
        img.load()
    text = json.dumps(gen.params, ensure_ascii=False, default=str)
    for k, v in gen.params.items():
        img.info.setdefault(k, v)
    img.info[PARAMS_KEY] = text
    img.encoderinfo = {"pnginfo": pnginfo_for(img)}
    return img
