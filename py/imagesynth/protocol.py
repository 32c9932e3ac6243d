"""The OpenAI Images protocol without I/O.

Owner: protocol helper.  A ``Job`` (one HTTP request's worth of work) →
``HttpRequest``; an ``HttpResponse`` or event stream → raw images or a typed
``APIError``.  Tests feed bytes; nothing here touches a socket (the h11 idea).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .apierrors import error_from_response as _error_from_response
from .endpoint import AZURE_API_VERSION, Endpoint  # noqa: F401  (re-exported)
from .errors import APIError, ResponseError
from .http import HttpRequest, HttpResponse
from .models import profile_for
from .multipart import FilePart, encode as encode_multipart
from .reprs import brief_repr
from .sse import EventStreamParser, StreamEvent  # noqa: F401  (re-exported)
from .validate import validate_job  # noqa: F401  (re-exported)

_PATHS = {"generate": "generations", "edit": "edits", "variation": "variations"}
_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


@brief_repr
@dataclass
class Job:
    """One request: an operation on one model with its fitted inputs."""

    operation: str  # "generate" | "edit" | "variation"
    model: str
    prompt: str | None = None
    n: int = 1
    size: str | None = None  # API size string
    params: dict[str, Any] = field(default_factory=dict)  # quality, style, background, ...
    images: list[bytes] = field(default_factory=list)  # fitted, encoded uploads
    image_mimes: list[str] = field(default_factory=list)
    mask: bytes | None = None  # PNG, API convention
    stream: bool = False
    partial_images: int | None = None


@dataclass
class RawImage:
    """One image as the API returned it."""

    b64: str | None = None
    url: str | None = None
    revised_prompt: str | None = None
    output_format: str | None = None  # png/jpeg/webp where the response says
    usage: dict | None = None
    request_id: str | None = None


def _base(endpoint: Endpoint) -> str:
    return (endpoint.base_url or "").rstrip("/")


def _azure_v1(base: str) -> bool:
    """Azure's newer v1 surface (``.../openai/v1``) takes OpenAI paths and the model in the body."""
    return base.endswith("/openai/v1")


def _azure_root(base: str) -> str:
    # Accept the resource URL with or without a trailing "/openai".
    return base[: -len("/openai")] if base.endswith("/openai") else base


def url_for(endpoint: Endpoint, operation: str, model: str) -> str:
    """Where an images request goes.

    Azure (classic): ``{resource}/openai/deployments/{deployment}/images/{op}?api-version=V``;
    the deployment name stands for the model (default: the model id, the name
    Azure's portal proposes).  Everyone else: ``{base_url}/images/{op}``.
    """
    base = _base(endpoint)
    path = _PATHS[operation]
    if endpoint.kind == "azure" and not _azure_v1(base):
        from urllib.parse import quote  # here, not at the top: urllib.parse imports ipaddress, ~40 ms of the page's start

        deployment = quote(endpoint.deployment or model, safe="")
        version = quote(endpoint.api_version or AZURE_API_VERSION, safe="")
        return f"{_azure_root(base)}/openai/deployments/{deployment}/images/{path}?api-version={version}"
    return f"{base}/images/{path}"


def auth_headers(endpoint: Endpoint) -> dict[str, str]:
    """Credentials for the chosen endpoint only; nothing when no key is set (local servers)."""
    h: dict[str, str] = {}
    if endpoint.kind == "azure":
        if endpoint.api_key:
            h["api-key"] = endpoint.api_key
        return h
    if endpoint.api_key:
        h["Authorization"] = f"Bearer {endpoint.api_key}"
    if endpoint.organization:
        h["OpenAI-Organization"] = endpoint.organization
    if endpoint.project:
        h["OpenAI-Project"] = endpoint.project
    return h


def request_fields(endpoint: Endpoint, job: Job) -> list[tuple[str, Any]]:
    """The body's parameters, in order, limited to what the model takes.

    Unknown models (a compatible server's own) get what the job says.  Models
    that answer with URLs by default are asked for base64: the image host of a
    URL sends no CORS headers, and the URL expires in an hour.
    """
    profile = profile_for(job.model)
    taken = profile.params_for(job.operation) if profile is not None else None

    def takes(name: str) -> bool:
        return taken is None or name in taken

    fields: list[tuple[str, Any]] = [("model", job.model)]
    if job.operation != "variation" and job.prompt is not None:
        fields.append(("prompt", job.prompt))
    if takes("n"):
        fields.append(("n", job.n))
    if job.size is not None and takes("size"):
        fields.append(("size", job.size))
    for name, value in job.params.items():
        if value is None or name in ("user", "stream", "partial_images") or not takes(name):
            continue
        if name == "output_compression" and job.params.get("output_format") not in ("jpeg", "webp"):
            continue  # the contract: only for jpeg/webp output
        fields.append((name, value))
    if profile is not None and profile.response_format and "response_format" not in job.params \
            and takes("response_format"):
        fields.append(("response_format", "b64_json"))
    user = job.params.get("user") or endpoint.user
    if user and takes("user"):
        fields.append(("user", user))
    if job.stream and takes("stream"):
        fields.append(("stream", True))
        if job.partial_images is not None and takes("partial_images"):
            fields.append(("partial_images", job.partial_images))
    return fields


def _files(job: Job) -> list[FilePart]:
    mimes = list(job.image_mimes) + ["image/png"] * (len(job.images) - len(job.image_mimes))
    # One image goes as "image" (dall-e-2 and variations take exactly one);
    # several as "image[]", the official SDK's array convention.
    name = "image" if len(job.images) == 1 else "image[]"
    files = [
        FilePart(name, f"image{'' if len(job.images) == 1 else i + 1}.{_EXT.get(m, 'png')}", m, data)
        for i, (data, m) in enumerate(zip(job.images, mimes))
    ]
    if job.mask is not None and job.operation == "edit":
        files.append(FilePart("mask", "mask.png", "image/png", job.mask))
    return files


def build_request(endpoint: Endpoint, job: Job) -> HttpRequest:
    """The HTTP request for one job: JSON for generations, multipart for uploads."""
    if job.operation not in _PATHS:
        raise ValueError(f"unknown operation {job.operation!r}")
    headers = auth_headers(endpoint)
    headers["Accept"] = "text/event-stream" if job.stream else "application/json"
    fields = request_fields(endpoint, job)
    if job.operation == "generate":
        body = json.dumps(dict(fields), ensure_ascii=False).encode("utf-8")
        headers["Content-Type"] = "application/json"
    else:
        body, headers["Content-Type"] = encode_multipart(fields, _files(job))
    return HttpRequest(
        method="POST",
        url=url_for(endpoint, job.operation, job.model),
        headers=headers,
        body=body,
        stream=bool(job.stream),
    )


def error_from_response(status: int, headers: dict[str, str], body: bytes, *, model: str | None = None) -> APIError:
    """The typed, plain-language error for an error response (any body, even HTML or empty)."""
    return _error_from_response(status, headers, body, model=model)


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in (headers or {}).items()}


def parse_response(response: HttpResponse, *, model: str | None = None) -> list[RawImage]:
    """A complete (non-streaming) response → images; an error status → raises APIError subclass."""
    headers = _lower(response.headers)
    request_id = headers.get("x-request-id")
    if response.status >= 300:
        raise error_from_response(response.status, headers, response.body, model=model)
    if "text/event-stream" in headers.get("content-type", ""):
        # A server that streams although not asked to: take its completed images.
        parser = EventStreamParser(model=model, request_id=request_id)
        events = parser.feed(response.body) + parser.close()
        images = [RawImage(b64=e.b64, revised_prompt=e.revised_prompt, output_format=e.output_format,
                           usage=e.usage, request_id=request_id) for e in events if e.kind == "completed"]
        if not images:
            raise ResponseError("The image stream ended without an image.", status=response.status,
                                request_id=request_id)
        return images
    try:
        payload = json.loads(response.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ResponseError(
            f"The endpoint answered HTTP {response.status} but not with the API's JSON; check the base URL.",
            status=response.status, request_id=request_id) from None
    if isinstance(payload, dict) and "error" in payload and payload["error"]:
        raise _error_from_response(400, headers, response.body, model=model)
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list) or not data:
        raise ResponseError("The endpoint answered without any image.", status=response.status,
                            request_id=request_id)
    images = []
    for item in data:
        if not isinstance(item, dict) or not (item.get("b64_json") or item.get("url")):
            raise ResponseError("The endpoint answered with an image entry holding neither data nor a URL.",
                                status=response.status, request_id=request_id)
        images.append(RawImage(
            b64=item.get("b64_json"),
            url=item.get("url"),
            revised_prompt=item.get("revised_prompt"),
            output_format=payload.get("output_format"),
            usage=payload.get("usage"),
            request_id=request_id,
        ))
    return images


def build_models_request(endpoint: Endpoint) -> HttpRequest:
    """``GET {base}/models``.

    Azure lists the models its resource *can* deploy (``/openai/models``), not
    the deployments a key may call; its answer says which model ids exist, not
    which deployment names work.  Callers should treat an Azure listing as a
    hint, and a failure of this request as "unknown" rather than an error.
    """
    base = _base(endpoint)
    if endpoint.kind == "azure" and not _azure_v1(base):
        from urllib.parse import quote  # here, not at the top: urllib.parse imports ipaddress, ~40 ms of the page's start

        version = quote(endpoint.api_version or AZURE_API_VERSION, safe="")
        url = f"{_azure_root(base)}/openai/models?api-version={version}"
    else:
        url = f"{base}/models"
    headers = auth_headers(endpoint)
    headers["Accept"] = "application/json"
    return HttpRequest(method="GET", url=url, headers=headers, timeout=30.0)


def parse_models_response(response: HttpResponse) -> list[str]:
    """Model ids from a ``/models`` answer (``{"data": [{"id": ...}]}``)."""
    headers = _lower(response.headers)
    if response.status >= 300:
        raise error_from_response(response.status, headers, response.body)
    try:
        payload = json.loads(response.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ResponseError("The endpoint's model list is not JSON; check the base URL.",
                            status=response.status, request_id=headers.get("x-request-id")) from None
    data = payload.get("data") if isinstance(payload, dict) else payload
    if not isinstance(data, list):
        raise ResponseError("The endpoint's model list has no data.", status=response.status,
                            request_id=headers.get("x-request-id"))
    ids = []
    for item in data:
        mid = item.get("id") if isinstance(item, dict) else item if isinstance(item, str) else None
        if isinstance(mid, str) and mid:
            ids.append(mid)
    return ids


def build_download_request(url: str) -> HttpRequest:
    """GET of a response_format=url image (no credentials sent to the image host)."""
    from urllib.parse import urlsplit  # here, not at the top: urllib.parse imports ipaddress, ~40 ms of the page's start

    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("https", "http"):
        raise ResponseError(f"The endpoint gave an image address that is not a web address ({scheme or 'none'}:).")
    return HttpRequest(method="GET", url=url, headers={"Accept": "image/*"}, timeout=120.0)
