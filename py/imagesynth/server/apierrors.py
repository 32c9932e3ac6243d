"""Errors in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.

Every refusal the sandbox makes is a ``SandboxError``; one function turns it
into the HTTP answer.  The messages copy the wording OpenAI uses, so clients
that show the API's own message (or match on it) behave as they would against
the real service.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from starlette.responses import JSONResponse


class SandboxError(Exception):
    """A request the sandbox refuses, with the status and error body to send."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def error_response(err: SandboxError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)


def error_bytes(err: SandboxError) -> bytes:
    return json.dumps(err.body()).encode()


# --- the validation errors, worded as OpenAI words them -----------------------------------------
def _quote_list(values: Iterable[Any]) -> str:
    items = [f"'{v}'" for v in values]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + (", and " if len(items) > 2 else " and ") + items[-1]


def missing(param: str) -> SandboxError:
    return SandboxError(400, f"Missing required parameter: '{param}'.", param=param,
                        code="missing_required_parameter")


def unknown_parameter(param: str) -> SandboxError:
    return SandboxError(400, f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")


def invalid_type(param: str, expected: str, got: Any) -> SandboxError:
    return SandboxError(400, f"Invalid type for '{param}': expected {expected}, but got {_type_name(got)} instead.",
                        param=param, code="invalid_type")


def invalid_value(param: str, value: Any, allowed: Iterable[Any] | None = None, why: str = "") -> SandboxError:
    msg = f"Invalid value: '{value}'."
    if allowed is not None:
        msg += f" Supported values are: {_quote_list(allowed)}."
    if why:
        msg += " " + why
    return SandboxError(400, msg, param=param, code="invalid_value")


def integer_out_of_range(param: str, value: int, lo: int | None, hi: int | None) -> SandboxError:
    if hi is not None and value > hi:
        return SandboxError(400, f"Invalid '{param}': integer above maximum value. Expected a value <= {hi}, "
                                 f"but got {value} instead.", param=param, code="integer_above_max_value")
    return SandboxError(400, f"Invalid '{param}': integer below minimum value. Expected a value >= {lo}, "
                             f"but got {value} instead.", param=param, code="integer_below_min_value")


def string_too_long(param: str, length: int, limit: int) -> SandboxError:
    return SandboxError(400, f"Invalid '{param}': string too long. Expected a string with maximum length {limit}, "
                             f"but got a string with length {length} instead.", param=param,
                        code="string_above_max_length")


def empty_string(param: str) -> SandboxError:
    return SandboxError(400, f"Invalid '{param}': empty string. Expected a string with minimum length 1, "
                             "but got an empty string instead.", param=param, code="empty_string")


def invalid_image(param: str, why: str, code: str = "invalid_image_format") -> SandboxError:
    return SandboxError(400, why, param=param, code=code)


def bad_json() -> SandboxError:
    return SandboxError(400, "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                             "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                             "sent was not valid JSON.)")


def body_too_large(limit: int) -> SandboxError:
    return SandboxError(413, f"Request body too large: the sandbox accepts at most {limit} bytes.",
                        code="request_too_large")


def not_found_url(method: str, path: str) -> SandboxError:
    return SandboxError(404, f"Invalid URL ({method} {path})")


def _type_name(v: Any) -> str:
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a decimal"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, dict):
        return "an object"
    if v is None:
        return "null"
    return "a file" if hasattr(v, "read") else type(v).__name__
