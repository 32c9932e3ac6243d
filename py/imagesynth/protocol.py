"""The OpenAI Images protocol without I/O.

Owner: protocol helper.  A ``Job`` (one HTTP request's worth of work) →
``HttpRequest``; an ``HttpResponse`` or event stream → raw images or a typed
``APIError``.  Tests feed bytes; nothing here touches a socket (the h11 idea).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .http import HttpRequest, HttpResponse


@dataclass
class Endpoint:
    """Where requests go and how they are signed.  ``repr`` never shows the key."""

    base_url: str = "https://api.openai.com/v1"
    api_key: str = field(default="", repr=False)
    kind: str = "openai"  # "openai" | "azure" | "compatible"
    organization: str | None = None
    project: str | None = None
    api_version: str | None = None  # Azure
    deployment: str | None = None  # Azure: the deployment name replaces the model in the URL
    user: str | None = None  # end-user ID, sent as `user`


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


@dataclass
class StreamEvent:
    kind: str  # "partial" | "completed"
    b64: str
    partial_index: int | None = None
    usage: dict | None = None
    output_format: str | None = None
    revised_prompt: str | None = None


def build_request(endpoint: Endpoint, job: Job) -> HttpRequest:
    raise NotImplementedError


def parse_response(response: HttpResponse) -> list[RawImage]:
    """A complete (non-streaming) response → images; an error status → raises APIError subclass."""
    raise NotImplementedError


def error_from_response(status: int, headers: dict[str, str], body: bytes) -> Exception:
    """The typed, plain-language error for an error response (any body, even HTML or empty)."""
    raise NotImplementedError


class EventStreamParser:
    """Incremental server-sent-events parser: ``feed(bytes)`` → list of StreamEvent.
    Raises the typed error for an ``error`` event."""

    def feed(self, data: bytes) -> list[StreamEvent]:
        raise NotImplementedError

    def close(self) -> list[StreamEvent]:
        raise NotImplementedError


def build_models_request(endpoint: Endpoint) -> HttpRequest:
    raise NotImplementedError


def parse_models_response(response: HttpResponse) -> list[str]:
    raise NotImplementedError


def build_download_request(url: str) -> HttpRequest:
    """GET of a response_format=url image (no credentials sent to the image host)."""
    raise NotImplementedError
