"""The sandbox images endpoint: ``/v1/images/{generations,edits,variations}``,
``/v1/models`` and the result URLs, speaking the OpenAI Images protocol.

Order of work for an images request, as the real service does it: key, body
(size limit, parse), validation against the model table, injected faults,
pictures (in a worker thread, so 50 concurrent requests keep the event loop
free), then JSON or a server-sent event stream.

Determinism, and identical requests at the same time: the pictures' seed comes
from the request (model, operation, prompt, size, options, input images) and
the picture's index, so the same request sent again afterwards gets the same
pixels.  But a client that wants n pictures from a model that makes one per
request (or that streams, one picture per stream) sends n identical requests at
once, and would see n copies.  So identical requests *in flight at the same
time* are told apart by arrival order: each takes the lowest free slot (0, 1,
2, ...) among the identical requests still running, and its picture ``i`` is
drawn with the seed of index ``slot * n + i``.  A request alone in flight has
slot 0 and is drawn exactly as before; a slot is free again once its response
has been sent (a stream: its last event, or the client leaving).  n concurrent
n=1 requests thus get the same pictures as one request for n.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, AsyncIterator

import anyio
from PIL import Image
from python_multipart.multipart import parse_options_header
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import models
from . import painter
from .apierrors import SandboxError, body_too_large, error_bytes, error_response, not_found_url
from .faults import FaultState, fault_error, requested_faults, strip_markers
from .store import URL_PREFIX, ImageStore
from .validation import Job, build_job, parse_json_object, usage

log = logging.getLogger("imagesynth.sandbox")

CORS_ALLOW_HEADERS = ["authorization", "content-type", "x-sandbox-fault", "openai-organization", "openai-project"]
CORS_EXPOSE_HEADERS = ["x-request-id", "openai-processing-ms", "retry-after"]
# The contract's enum for `size` in stream events and responses; other sizes are reported as described below.
EVENT_SIZES = ("1024x1024", "1024x1536", "1536x1024")


@dataclass
class SandboxConfig:
    key: str = "sk-sandbox"
    retry_after: float = 1.0  # seconds, sent with rate_limit faults
    max_body: int = 60 * 1024 * 1024
    url_ttl: float = 3600.0
    stream_delay: float = 0.05  # pause between stream events, so progress is visible
    timeout_cap: float = 600.0  # the `timeout` fault gives up after this long
    base_url_for_images: str | None = None  # e.g. "http://127.0.0.1:8000"; default: from the request
    max_files: int = 40


@dataclass
class Sandbox:
    """The sandbox's state: its settings, the URL store, the fault counters and the slots
    of identical requests in flight (see the module docstring)."""

    config: SandboxConfig = field(default_factory=SandboxConfig)
    store: ImageStore = None  # type: ignore[assignment]
    faults: FaultState = field(default_factory=FaultState)
    in_flight: dict[bytes, set[int]] = field(default_factory=dict)

    def take_slot(self, job: Job) -> tuple[bytes, int]:
        """The lowest slot no identical request in flight holds (called on the event loop)."""
        key = request_identity(job)
        held = self.in_flight.setdefault(key, set())
        slot = 0
        while slot in held:
            slot += 1
        held.add(slot)
        return key, slot

    def release_slot(self, key: bytes, slot: int) -> None:
        held = self.in_flight.get(key)
        if held is not None:
            held.discard(slot)
            if not held:
                del self.in_flight[key]

    def __post_init__(self) -> None:
        if self.store is None:
            self.store = ImageStore(ttl=self.config.url_ttl)


# --- middleware: request id, timing, body limit --------------------------------------------------
class RequestMeta:
    """Adds ``x-request-id`` and ``openai-processing-ms`` to every answer and
    enforces the body size limit: a 413 from ``Content-Length`` before reading
    anything, and while reading a chunked body."""

    def __init__(self, app: ASGIApp, max_body: int):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = "req_" + secrets.token_hex(16)
        scope.setdefault("state", {})["request_id"] = rid
        start = time.perf_counter()
        started = False

        async def send_meta(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                ms = str(int((time.perf_counter() - start) * 1000))
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode()),
                                      (b"openai-processing-ms", ms.encode()), (b"openai-version", b"2020-10-01")]
            await send(message)

        async def send_error(err: SandboxError) -> None:
            body = error_bytes(err)
            await send_meta({"type": "http.response.start", "status": err.status,
                             "headers": [(b"content-type", b"application/json"),
                                         (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body})

        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await send_error(SandboxError(400, "Invalid Content-Length header."))
                return
            if declared > self.max_body:
                await send_error(body_too_large(self.max_body))
                return

        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise body_too_large(self.max_body)
            return message

        try:
            await self.app(scope, counted_receive, send_meta)
        except SandboxError as err:
            if started:
                raise
            await send_error(err)


# --- helpers ---------------------------------------------------------------------------------------
def check_auth(request: Request, key: str) -> None:
    header = request.headers.get("authorization")
    if not header:
        raise SandboxError(401, "You didn't provide an API key. You need to provide your API key in an Authorization "
                                "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). The sandbox's key "
                                "is printed when `imagesynth serve` starts.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
        raise SandboxError(401, "Incorrect API key provided. The sandbox accepts only the key printed when "
                                "`imagesynth serve` starts.", code="invalid_api_key")


async def read_fields(request: Request, operation: str, max_files: int) -> tuple[dict[str, Any], bool, Any]:
    """The body as (fields, from_form, form-to-close)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if operation == "generate" or (operation == "edit" and ctype == "application/json"):
        return parse_json_object(await request.body()), False, None
    if ctype != "multipart/form-data":
        expected = "multipart/form-data or application/json" if operation == "edit" else "multipart/form-data"
        raise SandboxError(400, f"Invalid Content-Type header ({ctype or 'none'}), expected {expected}.")
    # Read it all first (the size limit applies while reading): python-multipart silently drops a
    # part cut off before the closing boundary, so a truncated upload must be caught here.
    raw = await request.body()
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if boundary and not raw.rstrip().endswith(b"--" + boundary + b"--"):
        raise SandboxError(400, "Invalid multipart/form-data body: it ends before its closing boundary "
                                "(a truncated upload?).", code="invalid_multipart")
    try:
        form = await request.form(max_files=max_files, max_fields=200, max_part_size=1024 * 1024)
    except (SandboxError, ClientDisconnect):
        raise
    except HTTPException as exc:
        raise SandboxError(400, f"Invalid multipart/form-data body: {exc.detail}", code="invalid_multipart") from None
    except Exception as exc:  # python-multipart raises several types on garbage
        raise SandboxError(400, f"Invalid multipart/form-data body: {exc}", code="invalid_multipart") from None
    fields: dict[str, Any] = {}
    for k, v in form.multi_items():
        if k in fields:
            prev = fields[k]
            fields[k] = [*prev, v] if isinstance(prev, list) else [prev, v]
        else:
            fields[k] = v
    return fields, True, form


def fault_key(job: Job) -> str:
    return job.prompt if job.prompt is not None else f"{job.operation}:{':'.join(job.image_digests)}"


def request_identity(job: Job) -> bytes:
    """What makes two requests identical (everything that shapes the pictures)."""
    return painter.seed_of(job.model, job.operation, job.prompt, job.size, job.n, job.options, job.image_digests)


def render(job: Job, slot: int = 0) -> list[Image.Image]:
    """The job's final pictures (CPU: run in a thread).  ``slot``: see the module docstring."""
    prompt = strip_markers(job.prompt) if job.prompt else None
    lines = painter.label_lines(prompt, job.model)
    out = []
    for i in range(job.n):
        index = slot * job.n + i
        seed = painter.seed_of(job.model, job.operation, job.prompt, job.size, index, job.options, job.image_digests)
        if job.operation == "generate":
            out.append(painter.generated(job.width, job.height, seed, lines,
                                         transparent=job.background == "transparent"))
        elif job.operation == "edit":
            out.append(painter.edited(job.images[0], job.edit_mask, job.width, job.height, seed, lines))
        else:
            out.append(painter.varied(job.images[0], job.width, job.height, seed, lines))
    return out


def revised_prompt(prompt: str | None) -> str:
    return f"A sandbox rendering (not AI) of: {strip_markers(prompt or '')}"


def _ext(fmt: str) -> str:
    return {"jpeg": "jpg"}.get(fmt, fmt)


# --- the endpoint ------------------------------------------------------------------------------------
class SandboxRoutes:
    def __init__(self, sandbox: Sandbox):
        self.sb = sandbox
        self.cfg = sandbox.config

    async def generations(self, request: Request) -> Response:
        return await self.images(request, "generate")

    async def edits(self, request: Request) -> Response:
        return await self.images(request, "edit")

    async def variations(self, request: Request) -> Response:
        return await self.images(request, "variation")

    async def images(self, request: Request, operation: str) -> Response:
        form = None
        rid = request.state.request_id
        held: tuple[bytes, int] | None = None
        try:
            check_auth(request, self.cfg.key)
            fields, from_form, form = await read_fields(request, operation, self.cfg.max_files)
            job = await run_in_threadpool(build_job, operation, fields, from_form=from_form,
                                          resolve_url=self.sb.store.resolve_url)
            held = self.sb.take_slot(job)
            faults = requested_faults(job.prompt, request.headers.get("x-sandbox-fault"))
            active = {f.name: f for f in faults if self.sb.faults.fires(f, fault_key(job))}

            def fail(name: str) -> SandboxError:
                return fault_error(name, model=job.model, request_id=rid, retry_after=self.cfg.retry_after)

            if "slow" in active:
                await anyio.sleep(active["slow"].seconds)
            if "timeout" in active:
                await self._wait_for_disconnect(request)
                raise SandboxError(504, "The sandbox `timeout` fault gave up waiting for the client to leave.",
                                   type="server_error", code="timeout")
            for name in ("org_verification", "quota", "rate_limit", "overloaded", "server_error", "moderation_input"):
                if name in active:
                    raise fail(name)
            if "stream_error" in active and not job.stream:
                raise fail("stream_error")
            pictures = await run_in_threadpool(render, job, held[1])
            if "moderation_output" in active:
                raise fail("moderation_output")
            if job.stream:
                events = self._events(job, pictures, fail("stream_error") if "stream_error" in active else None,
                                      held)
                held = None  # the stream gives the slot back when it ends
                return StreamingResponse(events, media_type="text/event-stream",
                                         headers={"cache-control": "no-cache", "x-accel-buffering": "no"})
            body = await run_in_threadpool(self._body, job, pictures, self._image_base(request))
            return JSONResponse(body)
        except SandboxError as err:
            return error_response(err)
        except ClientDisconnect:
            return Response(status_code=400)
        except Exception:  # never crash: log it and answer in the contract's shape
            log.exception("sandbox failed on %s", request.url.path)
            return error_response(SandboxError(500, f"The sandbox failed unexpectedly (request ID {rid}); "
                                                    "see the server log.", type="server_error"))
        finally:
            if held is not None:
                self.sb.release_slot(*held)
            if form is not None:
                await form.close()

    async def _wait_for_disconnect(self, request: Request) -> None:
        with anyio.move_on_after(self.cfg.timeout_cap):
            while True:
                message = await request.receive()
                if message["type"] == "http.disconnect":
                    return

    def _image_base(self, request: Request) -> str:
        if self.cfg.base_url_for_images:
            return self.cfg.base_url_for_images.rstrip("/")
        return f"{request.url.scheme}://{request.url.netloc}"

    def _body(self, job: Job, pictures: list[Image.Image], base_url: str) -> dict[str, Any]:
        data = []
        for im in pictures:
            blob = painter.encode(im, job.output_format, job.output_compression)
            if job.response_format == "url":
                name = self.sb.store.put(blob, painter.MIME[job.output_format], _ext(job.output_format))
                item: dict[str, Any] = {"url": base_url + URL_PREFIX + name}
            else:
                item = {"b64_json": base64.b64encode(blob).decode()}
            if job.profile.revised_prompt:
                item["revised_prompt"] = revised_prompt(job.prompt)
            data.append(item)
        body: dict[str, Any] = {"created": int(time.time()), "data": data}
        if job.profile.reports_usage:
            body.update(background=job.background, output_format=job.output_format, quality=job.quality)
            if job.size in EVENT_SIZES:  # the contract's enum; other sizes are left out rather than invalid
                body["size"] = job.size
            u = usage(job)
            u["output_tokens_details"] = {"image_tokens": u["output_tokens"], "text_tokens": 0}
            body["usage"] = u
        return body

    async def _events(self, job: Job, pictures: list[Image.Image], stream_error: SandboxError | None,
                      held: tuple[bytes, int] | None = None) -> AsyncIterator[bytes]:
        """Server-sent events: per picture its partial images, then a completed event."""
        try:
            async for chunk in self._event_chunks(job, pictures, stream_error):
                yield chunk
        finally:
            if held is not None:
                self.sb.release_slot(*held)

    async def _event_chunks(self, job: Job, pictures: list[Image.Image],
                            stream_error: SandboxError | None) -> AsyncIterator[bytes]:
        prefix = "image_generation" if job.operation == "generate" else "image_edit"
        common = {"size": job.size if job.size in EVENT_SIZES else "auto", "quality": job.quality,
                  "background": job.background, "output_format": job.output_format}

        def encode(im: Image.Image) -> str:
            return base64.b64encode(painter.encode(im, job.output_format, job.output_compression)).decode()

        for im in pictures:
            for k in range(job.partial_images):
                b64 = await run_in_threadpool(lambda: encode(painter.partial(im, k, job.partial_images)))
                yield _sse(f"{prefix}.partial_image", {"type": f"{prefix}.partial_image", "b64_json": b64,
                                                       "created_at": int(time.time()), **common,
                                                       "partial_image_index": k})
                await anyio.sleep(self.cfg.stream_delay)
                if stream_error is not None:
                    break
            if stream_error is not None:
                yield _sse("error", {"type": "error", **stream_error.body()})
                return
            b64 = await run_in_threadpool(encode, im)
            yield _sse(f"{prefix}.completed", {"type": f"{prefix}.completed", "b64_json": b64,
                                               "created_at": int(time.time()), **common, "usage": usage(job)})

    async def image_file(self, request: Request) -> Response:
        item = self.sb.store.get(request.path_params["name"])
        if item is None:
            return error_response(SandboxError(404, "This sandbox image URL has expired or never existed (URLs are "
                                                    "valid for 60 minutes).", code="not_found"))
        return Response(item.data, media_type=item.media_type,
                        headers={"cache-control": "private, max-age=3600, immutable"})

    async def list_models(self, request: Request) -> Response:
        try:
            check_auth(request, self.cfg.key)
        except SandboxError as err:
            return error_response(err)
        return JSONResponse({"object": "list", "data": [_model_object(m) for m in models.MODELS.values()]})

    async def get_model(self, request: Request) -> Response:
        try:
            check_auth(request, self.cfg.key)
            profile = models.profile_for(request.path_params["model"])
            if profile is None:
                raise SandboxError(404, f"The model `{request.path_params['model']}` does not exist or you do not "
                                        "have access to it.", param="model", code="model_not_found")
        except SandboxError as err:
            return error_response(err)
        return JSONResponse(_model_object(profile))


def _model_object(profile: models.ModelProfile) -> dict[str, Any]:
    created = int(datetime.fromisoformat(profile.released).replace(tzinfo=timezone.utc).timestamp())
    return {"id": profile.id, "object": "model", "created": created, "owned_by": "system"}


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(not_found_url(request.method, request.url.path))


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return error_response(SandboxError(405, f"Method not allowed ({request.method} {request.url.path})."))


def create_sandbox_app(sandbox: Sandbox) -> Starlette:
    """The ASGI app to mount at ``/v1``."""
    r = SandboxRoutes(sandbox)
    routes = [
        Route("/images/generations", r.generations, methods=["POST"]),
        Route("/images/edits", r.edits, methods=["POST"]),
        Route("/images/variations", r.variations, methods=["POST"]),
        Route("/models", r.list_models, methods=["GET"]),
        Route("/models/{model:path}", r.get_model, methods=["GET"]),
        Route(URL_PREFIX.removeprefix("/v1") + "{name}", r.image_file, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "OPTIONS"],
                       allow_headers=CORS_ALLOW_HEADERS, expose_headers=CORS_EXPOSE_HEADERS, max_age=600),
            Middleware(RequestMeta, max_body=sandbox.config.max_body),
        ],
        exception_handlers={404: _not_found, 405: _method_not_allowed},
    )
    app.state.sandbox = sandbox
    return app
