"""Running a task: inputs fitted, n split into requests, requests run
concurrently with retries, results finished and reported as they arrive.

Owner: orchestration helper.  Async, with the transport and the imaging
implementation passed in, so the browser (fetch + canvas) and CPython
(requests + Pillow) run this same code.

Nothing paid for is lost.  Each finished image is delivered at once through a
``"done"`` progress event (an async callback is awaited, so the browser can
persist it before anything else happens).  When some of the n images fail for
good while others succeed, ``synthesize`` raises the first failure with the
images that did succeed attached as ``error.partial_results`` (and the indices
that failed as ``error.failed_indices``): a caller that ignores progress
events can still recover them, and a caller that does not look at the
exception cannot mistake a partial result for a whole one.

Everything that can be checked before a request is sent is checked first:
the call form, n, the model's support for the operation, the size, and the
job against the model table (``validate.validate_job``).  Only then are input
images fitted (once, shared by every request) and requests sent.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import inspect
import random
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from . import errors
from .finish import finish_image
from .http import HttpResponse, Transport
from .imaging.base import Imaging
from .models import MODELS, ModelProfile, default_model, profile_for
from .prepare import PreparedEdit, prepare_edit
from .progress import ProgressCallback, ProgressEvent
from .protocol import (
    Endpoint,
    EventStreamParser,
    Job,
    RawImage,
    build_download_request,
    build_models_request,
    build_request,
    error_from_response,
    parse_models_response,
    parse_response,
)
from .result import GeneratedImage
from .retry import RetryPolicy, call_with_retries, describe
from .sizes import SizePlan, resolve_size
from .tasks import Task, task_from_spec
from .validate import validate_job

VARIATION_PROMPT = (
    "Make a variation of this image: keep its subject, composition, palette and style, "
    "change the details."
)
MAX_N = 10
#: parameters recorded in each image's params when they were set
_RECORDED = ("quality", "style", "background", "output_format", "output_compression", "moderation",
             "input_fidelity")


@dataclass
class Options:
    """How a call runs: ImageSynthesize's options and the model's parameters, with defaults to leave alone."""
    n: int = 1
    image_size: Any = None  # "Small" | "Medium" | "Large" | (w, h) | "WxH" | None
    model: str | None = None  # None: the newest GPT image model the endpoint lists
    #: model parameters: quality, style, background, output_format, output_compression,
    #: moderation, input_fidelity
    params: dict[str, Any] = field(default_factory=dict)
    stream: bool | None = None  # None: stream when the model can and someone watches progress
    partial_images: int = 2
    paste_back: bool = True
    feather: int = 8
    max_retries: int = 4
    concurrency: int = 4
    variation_prompt: str = VARIATION_PROMPT
    #: recorded in every image's params; None: a random one per call, so the request set of a
    #: call can be told apart and reproduced against a deterministic endpoint
    seed: int | None = None
    #: backoff timing; None: RetryPolicy(max_retries=max_retries)
    retry_policy: RetryPolicy | None = None


@dataclass
class _Plan:
    """Everything decided before the first request."""

    task: Task
    model: str
    profile: ModelProfile
    known: bool
    operation: str
    prompt: str | None
    size: SizePlan
    params: dict[str, Any]
    stream: bool
    partial_images: int | None
    per_request: int


def _unknown_profile(model: str) -> ModelProfile:
    """A model the table does not know (a compatible server's own): assume the common GPT image
    shape, one image per request and no streaming unless asked; the validator checks only what
    the contract says for every model."""
    return replace(MODELS["gpt-image-1"], id=model, family="unknown", max_n=1, streaming=False,
                   released="")


def plan_call(spec: Any, options: Options, available_models: list[str] | None = None,
              progress_watched: bool = False) -> _Plan:
    """The checks and choices made before any request: raises InputError on bad input."""
    task = task_from_spec(spec)
    n = options.n
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_N:
        raise errors.InputError(f"n must be a whole number from 1 to {MAX_N}, not {n!r}")
    # A variation falls back to an edit where the model has no /variations, so the default model
    # is the newest one that can edit (a GPT image model), not the one that still has variations.
    wanted = "generate" if task.kind == "generate" else "edit"
    model = options.model or default_model(available_models or None, wanted)
    profile = profile_for(model)
    known = profile is not None
    profile = profile or _unknown_profile(model)

    if task.kind == "generate":
        operation, prompt = "generate", task.prompt
    elif task.kind == "inpaint":
        operation, prompt = "edit", task.prompt
    elif profile.variation:
        operation, prompt = "variation", None
    else:
        operation, prompt = "edit", options.variation_prompt
    if not profile.supports(operation):
        able = [m.id for m in MODELS.values() if m.supports(operation)]
        what = {"generate": "generate images", "edit": "edit images", "variation": "make variations"}[operation]
        raise errors.InputError(f"{model} cannot {what}; choose a model that can: {', '.join(able)}")

    size = resolve_size(profile, options.image_size, operation)
    # (protocol.request_fields asks URL-answering models for base64 itself)
    params = {k: v for k, v in options.params.items() if v is not None}

    stream = options.stream if options.stream is not None else (profile.streaming and progress_watched)
    partial = None
    if stream:
        partial = max(0, min(options.partial_images, profile.max_partial_images or 3))
    # A stream's events carry no image index: one image per streamed request.
    per_request = 1 if stream else max(1, profile.max_n)

    plan = _Plan(task, model, profile, known, operation, prompt, size, params, bool(stream), partial,
                 per_request)
    # The model table's verdict on the real job shape, with placeholder uploads.
    validate_job(profile if known else None, _job(plan, min(n, per_request), None))
    return plan


def _job(plan: _Plan, k: int, prepared: PreparedEdit | None) -> Job:
    if plan.operation == "generate":
        images, mimes, mask = [], [], None
    elif prepared is None:  # placeholder for validation before the inputs are fitted
        images, mimes, mask = [b""], ["image/png"], (b"" if plan.task.mask is not None else None)
        if plan.operation == "variation":
            mask = None
    else:
        images, mimes, mask = prepared.images, prepared.image_mimes, prepared.mask
    return Job(operation=plan.operation, model=plan.model, prompt=plan.prompt, n=k, size=plan.size.request,
               params=dict(plan.params), images=images, image_mimes=mimes, mask=mask, stream=plan.stream,
               partial_images=plan.partial_images)


def _chunks(n: int, per: int) -> list[list[int]]:
    return [list(range(i, min(n, i + per))) for i in range(0, n, per)]


class _Reporter:
    def __init__(self, progress: ProgressCallback | None, total: int):
        self.progress = progress
        self.total = total
        self.started = time.monotonic()

    async def emit(self, stage: str, index: int, **kw: Any) -> None:
        if self.progress is None:
            return
        ev = ProgressEvent(stage=stage, index=index, total=self.total,
                           elapsed=time.monotonic() - self.started, **kw)
        r = self.progress(ev)
        if inspect.isawaitable(r):
            await r

    async def emit_quietly(self, stage: str, index: int, **kw: Any) -> None:
        """For "failed": a callback that fails here must not hide the error being reported."""
        try:
            await self.emit(stage, index, **kw)
        except Exception:
            pass


async def _collect(chunks) -> bytes:
    parts = []
    async for c in chunks:
        parts.append(c)
    return b"".join(parts)


def _is_event_stream(resp: HttpResponse) -> bool:
    return "text/event-stream" in (resp.header("content-type") or "")


async def synthesize(spec: Any, endpoint: Endpoint, *, options: Options, transport: Transport,
                     imaging: Imaging, progress: ProgressCallback | None = None,
                     available_models: list[str] | None = None,
                     on_warning: Callable[[str], Any] | None = None) -> list[GeneratedImage]:
    """Run an ImageSynthesize call form.  ``progress`` may be sync or async; an async callback
    is awaited, so a "done" event's image is persisted by the caller before the next step.
    ``on_warning`` (sync or async) is told each warning about the inputs (a mask stretched to
    the image's size, an image cropped square, ...) once, after they are fitted and before any
    request is sent; the warnings are also recorded in every image's params.
    Cancelling the asyncio task cancels every request in flight (transports abort).

    Returns the n images in order.  If some fail after retries, raises the first failure with
    ``partial_results`` (the images that succeeded, already delivered as "done" events)."""
    plan = plan_call(spec, options, available_models, progress_watched=progress is not None)
    n = options.n
    rep = _Reporter(progress, n)
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**31)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    policy = options.retry_policy or RetryPolicy(max_retries=options.max_retries)

    for i in range(n):
        await rep.emit("preparing", i)
    prepared = None
    if plan.operation != "generate":
        prepared = await prepare_edit(imaging, plan.profile, plan.task.image, plan.task.mask,
                                      operation="variation" if plan.task.kind == "vary" else "edit")
        validate_job(plan.profile if plan.known else None, _job(plan, min(n, plan.per_request), prepared))
        if on_warning is not None:
            for message in prepared.warnings:
                r = on_warning(message)
                if inspect.isawaitable(r):
                    await r

    base_params = {
        "prompt": plan.task.prompt,
        "model": plan.model,
        "task": plan.task.kind,
        "operation": plan.operation,
        "n": n,
        "seed": seed,
        "created": created,
        "provider": endpoint.kind,
        "requested_size": plan.size.request,
    }
    if plan.task.kind == "vary" and plan.operation == "edit":
        base_params["variation_prompt"] = plan.prompt
    if plan.size.target is not None:
        base_params["size"] = f"{plan.size.target[0]}x{plan.size.target[1]}"
    if plan.size.generated is not None:
        base_params["generated_size"] = f"{plan.size.generated[0]}x{plan.size.generated[1]}"
    for k in _RECORDED:
        if k in plan.params:
            base_params[k] = plan.params[k]
    if prepared is not None and prepared.warnings:
        base_params["warnings"] = list(prepared.warnings)

    results: dict[int, GeneratedImage] = {}
    failures: dict[int, BaseException] = {}
    gate = asyncio.Semaphore(max(1, options.concurrency))
    out_format = plan.params.get("output_format") or "png"

    async def finish_one(i: int, raw: RawImage, data: bytes) -> None:
        await rep.emit("decoding", i)
        params = dict(base_params, index=i)
        if raw.revised_prompt:
            params["revised_prompt"] = raw.revised_prompt
        if raw.request_id:
            params["request_id"] = raw.request_id
        img = await finish_image(imaging, data, plan=plan.size, params=params, prepared=prepared,
                                 paste_back=options.paste_back, feather=options.feather,
                                 output_format=out_format, index=i)
        img.index = i
        results[i] = img
        await rep.emit("done", i, image=img)

    async def receive(indices: list[int], resp: HttpResponse) -> list[tuple[RawImage, bytes]]:
        """One answer → (raw, bytes) per image; partial images are reported on the way."""
        request_id = resp.header("x-request-id")
        if resp.status >= 400:
            body = resp.body if resp.chunks is None else await _collect(resp.chunks)
            raise error_from_response(resp.status, resp.headers, body, model=plan.model)
        if plan.stream and resp.chunks is not None and _is_event_stream(resp):
            raws = await read_stream(indices[0], resp, request_id)
        else:
            body = resp.body if resp.chunks is None else await _collect(resp.chunks)
            raws = parse_response(HttpResponse(resp.status, resp.headers, body), model=plan.model)
        out = []
        for raw in raws[: len(indices)]:
            raw.request_id = raw.request_id or request_id
            out.append((raw, await image_bytes(raw)))
        if len(out) < len(indices):
            raise errors.ResponseError(
                f"the endpoint returned {len(out)} image(s) where {len(indices)} were asked for",
                request_id=request_id)
        return out

    async def read_stream(i: int, resp: HttpResponse, request_id: str | None) -> list[RawImage]:
        parser = EventStreamParser(model=plan.model, request_id=request_id)
        final: list[RawImage] = []

        async def handle(events) -> None:
            for ev in events:
                if ev.kind == "partial":
                    await rep.emit("partial", i, partial_index=ev.partial_index,
                                   partial_count=plan.partial_images, image=_b64(ev.b64))
                elif ev.kind == "completed":
                    final.append(RawImage(b64=ev.b64, revised_prompt=ev.revised_prompt,
                                          output_format=ev.output_format, usage=ev.usage,
                                          request_id=request_id))

        async for chunk in resp.chunks:
            await handle(parser.feed(chunk))
        await handle(parser.close())
        if not final:
            raise errors.ResponseError("the stream ended before the image was complete",
                                       request_id=request_id)
        return final

    async def image_bytes(raw: RawImage) -> bytes:
        if raw.b64:
            return _b64(raw.b64)
        if raw.url:
            resp = await transport.send(build_download_request(raw.url))
            body = resp.body if resp.chunks is None else await _collect(resp.chunks)
            if resp.status >= 400:
                raise error_from_response(resp.status, resp.headers, body)
            return body
        raise errors.ResponseError("the endpoint answered with an image entry that has no data")

    async def run(indices: list[int]) -> None:
        pending = list(indices)
        try:
            async with gate:
                request = build_request(endpoint, _job(plan, len(indices), prepared))

                async def attempt():
                    stage = "waiting" if plan.operation == "generate" else "uploading"
                    for i in indices:
                        await rep.emit(stage, i)
                    resp = await transport.send(request)
                    if stage == "uploading":
                        for i in indices:
                            await rep.emit("waiting", i)
                    return await receive(indices, resp)

                async def on_retry(e: BaseException, wait: float, number: int) -> None:
                    msg = f"{describe(e)}, retrying in {wait:.1f} s (retry {number} of {policy.max_retries})"
                    for i in indices:
                        await rep.emit("retrying", i, message=msg, error=e)

                answers = await call_with_retries(attempt, policy, on_retry=on_retry)
            for i, (raw, data) in zip(indices, answers):
                try:
                    await finish_one(i, raw, data)
                except Exception as e:  # one bad image must not take its siblings with it
                    failures[i] = e
                    await rep.emit_quietly("failed", i, error=e, message=str(e))
                pending.remove(i)
        except Exception as e:
            for i in pending:
                failures[i] = e
                await rep.emit_quietly("failed", i, error=e, message=str(e))

    # gather: cancelling this coroutine cancels every request in flight
    await asyncio.gather(*(run(ix) for ix in _chunks(n, plan.per_request)))

    done = [results[i] for i in sorted(results)]
    if failures:
        first = failures[min(failures)]
        try:
            first.partial_results = done  # type: ignore[attr-defined]
            first.failed_indices = sorted(failures)  # type: ignore[attr-defined]
        except AttributeError:
            pass
        raise first
    return done


def _b64(s: str) -> bytes:
    try:
        return base64.b64decode(s, validate=False)
    except (binascii.Error, ValueError):
        raise errors.ResponseError("the endpoint sent an image that is not valid base64") from None


async def list_models(endpoint: Endpoint, transport: Transport) -> list[str]:
    """The model ids the endpoint lists; [] where it offers no listing (404/405/501), so the
    caller falls back to the model table.  A refused key is still an error: better said now."""
    resp = await transport.send(build_models_request(endpoint))
    if resp.chunks is not None:
        resp = HttpResponse(resp.status, resp.headers, await _collect(resp.chunks))
    if resp.status in (404, 405, 501):
        return []
    return parse_models_response(resp)
