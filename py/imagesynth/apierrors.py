"""An error answer (status, headers, body) → the typed error a person can act on.

The API's own message names parameters and codes; people need to know what to
do.  So the message we raise says that, and the API's message rides along in
``detail`` (with anything key-shaped masked: OpenAI's 401 text quotes part of
the key).  Bodies that are not the API's JSON (an HTML proxy page, an empty
502, a FastAPI ``{"detail": ...}``) still give a typed error.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone

from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ModerationError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ResponseError,
    ServerError,
)

KEYS_URL = "https://platform.openai.com/api-keys"
VERIFY_URL = "https://platform.openai.com/settings/organization/general"
BILLING_URL = "https://platform.openai.com/settings/organization/billing"

MODERATION_CODES = {"moderation_blocked", "content_policy_violation"}
_KEYLIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-*.]{3,}|[A-Fa-f0-9]{32,})\b")
_OUTPUT_WORDS = ("generated image", "output image", "resulting image", "the result", "generated content",
                 "output was", "output moderation", "image output")


def redact(text: str | None) -> str | None:
    """Mask anything shaped like a key (sk-..., 32+ hex digits as Azure keys are)."""
    if text is None:
        return None
    return _KEYLIKE.sub("[redacted]", text)


def parse_retry_after(headers: dict[str, str], now: float | None = None) -> float | None:
    """Seconds to wait: ``retry-after-ms``, else ``Retry-After`` as seconds or an HTTP-date."""
    h = {k.lower(): v for k, v in headers.items()}
    ms = h.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
            if value >= 0:
                return value
        except ValueError:
            pass
    ra = h.get("retry-after")
    if ra is None:
        return None
    ra = ra.strip()
    try:
        value = float(ra)
        return value if value >= 0 else None
    except ValueError:
        pass
    when = parse_http_date(ra)
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when - now)


_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_HTTP_DATES = (
    re.compile(r"^\w{3}, (\d{1,2}) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$", re.I),  # IMF-fixdate
    re.compile(r"^\w+, (\d{1,2})-(\w{3})-(\d{2}) (\d\d):(\d\d):(\d\d) GMT$", re.I),  # RFC 850
)
_ASCTIME = re.compile(r"^\w{3} (\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})$", re.I)


def parse_http_date(value: str) -> float | None:
    """An HTTP-date (RFC 9110's three forms) → Unix time.

    Not ``email.utils``: it imports ``socket`` at import time, which the core
    avoids so it loads unchanged on Pyodide.
    """
    value = value.strip()
    for rx in _HTTP_DATES:
        m = rx.match(value)
        if m:
            day, mon, year, hh, mm, ss = m.groups()
            year = int(year)
            if year < 100:
                year += 2000 if year < 70 else 1900
            break
    else:
        m = _ASCTIME.match(value)
        if not m:
            return None
        mon, day, hh, mm, ss, year = m.groups()
        year = int(year)
    month = _MONTHS.get(mon.lower())
    if month is None:
        return None
    try:
        return datetime(year, month, int(day), int(hh), int(mm), int(ss), tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def _looks_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html") or b"<body" in head


def error_fields(body: bytes) -> tuple[dict, str]:
    """(the API error object, a note on what the body was) from any body."""
    if not body or not body.strip():
        return {}, "an empty answer"
    if _looks_html(body):
        return {}, "a web page instead of the API's JSON (is the base URL right?)"
    try:
        payload = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        return {"message": text[:300]}, "plain text"
    return error_object(payload), "json"


def error_object(payload) -> dict:
    """The ``{"message", "type", "param", "code"}`` object, whatever the server's dialect."""
    if isinstance(payload, dict):
        err = payload.get("error", payload)
        if isinstance(err, str):  # {"error": "text"}
            return {"message": err}
        if isinstance(err, dict):
            out = dict(err)
            if "message" not in out and "detail" in payload:  # FastAPI / Starlette
                d = payload["detail"]
                out["message"] = d if isinstance(d, str) else json.dumps(d)
            # Azure nests the reason: {"error": {"code": "contentFilter", "innererror": {"code": ...}}}
            inner = out.get("innererror")
            if isinstance(inner, dict) and inner.get("code") and out.get("code") in (None, "content_filter",
                                                                                     "contentFilter"):
                out["inner_code"] = inner["code"]
            return out
    if isinstance(payload, str):
        return {"message": payload}
    return {}


def _str(v) -> str | None:
    return None if v is None else str(v)


def moderation_stage(code: str | None, param: str | None, message: str | None) -> str:
    """"input" or "output" for a moderation refusal.

    Rules, in order (the API does not say it in one field):
    1. ``param`` names an input (``prompt``, ``image``, ``image[]``, ``mask``) → input;
    2. the message speaks of the generated/output image → output;
    3. otherwise input: a refusal without either sign is the request being
       rejected ("Your request was rejected by the safety system"), and
       ``content_policy_violation`` (DALL·E) is always about the prompt.
    """
    p = (param or "").lower()
    if p and (p == "prompt" or p.startswith("image") or p == "mask"):
        return "input"
    m = (message or "").lower()
    if any(w in m for w in _OUTPUT_WORDS):
        return "output"
    return "input"


def is_moderation(code: str | None, type_: str | None, message: str | None) -> bool:
    if code in MODERATION_CODES:
        return True
    c = (code or "").lower()
    if c in ("content_filter", "contentfilter", "responsibleaipolicyviolation"):  # Azure
        return True
    return "safety system" in (message or "").lower()


def error_from_fields(status: int | None, err: dict, headers: dict[str, str] | None = None, *,
                      note: str = "json", model: str | None = None) -> APIError:
    """The typed error for one API error object (also used for ``error`` stream events)."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    code = _str(err.get("code"))
    type_ = _str(err.get("type"))
    param = _str(err.get("param"))
    detail = redact(_str(err.get("message")))
    request_id = headers.get("x-request-id") or headers.get("apim-request-id")
    kw = dict(code=code, param=param, status=status, request_id=request_id, detail=detail)
    said = f" The service said: {detail}" if detail else (f" It sent {note}." if note != "json" else "")
    said_nokey = f" It sent {note}." if note != "json" else ""
    who = f"the model {model!r}" if model else "this model"

    if status == 401:
        return AuthenticationError(
            "The API key was refused (HTTP 401). Check that it is complete and current, or replace it with a new "
            f"one from {KEYS_URL} (Azure: Keys and Endpoint on the resource in the Azure portal)." + said_nokey, **kw)
    if is_moderation(code, type_, detail) and (status in (None, 400, 422) or code in MODERATION_CODES):
        stage = moderation_stage(code, param, detail)
        if stage == "output":
            msg = ("The safety system refused the generated image, so none was returned. Try again, or change the "
                   "prompt; GPT image models also take moderation='low'.")
        else:
            msg = ("The safety system refused the request (the prompt or an input image). Rephrase the prompt or use "
                   "another image.")
        return ModerationError(msg + (f" The service said: {detail}" if detail else ""), stage=stage, **kw)
    if status == 403:
        text = (detail or "").lower()
        if "verif" in text or (model or "").startswith(("gpt-image", "chatgpt-image")):
            return PermissionDeniedError(
                f"Your organization must be verified to use {who} (HTTP 403). Verify it at {VERIFY_URL} (access can "
                "take up to 15 minutes to arrive after verifying), or choose another model." + said, **kw)
        return PermissionDeniedError(
            "The endpoint refused access (HTTP 403). Check that the key's project or role may use images and this "
            "model, or choose another model." + said, **kw)
    if status == 404:
        text = (detail or "").lower()
        if code in ("model_not_found", "DeploymentNotFound") or "model" in text or "deployment" in text:
            return NotFoundError(
                f"The endpoint does not know {who}, or the key has no access to it (HTTP 404). Choose a model (or "
                "Azure deployment) the endpoint lists." + said, **kw)
        return NotFoundError(
            "The endpoint has no such address (HTTP 404). Check the base URL; this endpoint may also not offer this "
            "kind of image request." + said, **kw)
    if status == 429 or code in ("insufficient_quota", "rate_limit_exceeded"):
        if code == "insufficient_quota" or type_ == "insufficient_quota":
            return QuotaExceededError(
                f"The account is out of credits (insufficient_quota). Add credit or raise the limit at {BILLING_URL}; "
                "trying again will not help until then." + said, **kw)
        wait = parse_retry_after(headers)
        when = f" Retry after {wait:g} s." if wait is not None else " Wait a little and try again."
        return RateLimitError("Too many requests: the endpoint is rate limiting (HTTP 429)." + when + said,
                              retry_after=wait, **kw)
    if status is not None and (status in (408, 409) or status >= 500):
        return ServerError(f"The image service failed (HTTP {status}); trying again later may work." + said, **kw)
    if status is None and (code is None or "server" in (code or "") or type_ == "server_error"):
        return ServerError("The image service failed while streaming; trying again may work." + said, **kw)
    if status is not None and not 400 <= status < 500:
        return ResponseError(f"The endpoint answered HTTP {status}, which is not an images response." + said, **kw)
    return BadRequestError(_bad_request_text(status, code, param, detail, note), **kw)


def _bad_request_text(status, code, param, detail, note) -> str:
    text = (detail or "").lower()
    p = (param or "").lower()
    if "too large" in text or "size limit" in text or "exceed" in text and p.startswith(("image", "mask")):
        hint = "An input image is too large; use a smaller image or file."
    elif p.startswith(("image", "mask")) or "format" in text or "mime" in text:
        hint = "An input image or mask was not accepted (format, size, or mask not matching the image)."
    elif p == "size":
        hint = "The model does not make that size; choose another image size."
    elif p:
        hint = f"The parameter {param!r} was not accepted."
    else:
        hint = "The request was not accepted."
    where = f" (HTTP {status})" if status else ""
    said = f" The service said: {detail}" if detail else (f" It sent {note}." if note != "json" else "")
    return f"The endpoint rejected the request{where}. {hint}{said}"


def error_from_response(status: int, headers: dict[str, str], body: bytes, *, model: str | None = None) -> APIError:
    """The typed, plain-language error for an error response (any body, even HTML or empty)."""
    err, note = error_fields(body or b"")
    return error_from_fields(status, err, headers, note=note, model=model)
