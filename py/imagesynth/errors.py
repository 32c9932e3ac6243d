"""One exception hierarchy, with messages a person can act on.

Every failure the library can raise is an ``ImageSynthError``.  Its ``str`` is
one plain sentence saying what happened and what to do; the API's own
``code``, ``param``, HTTP ``status`` and ``request_id`` ride along as
attributes for programs.  No message ever contains a credential: the key is
never passed into an error.
"""

from __future__ import annotations


class ImageSynthError(Exception):
    """Base of everything imagesynth raises."""

    #: whether trying the same request again may succeed
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None,
                 status: int | None = None, request_id: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.status = status
        self.request_id = request_id
        #: the API's own message, when there was one
        self.detail = detail
        #: when some of a call's n images failed: the ones that succeeded (GeneratedImage, or
        #: PIL images from ``image_synthesize``), already delivered through "done" progress events
        self.partial_results: list = []
        #: and the indices (0..n-1) of the ones that failed
        self.failed_indices: list[int] = []

    def to_dict(self) -> dict:
        return {
            "type": type(self).__name__,
            "message": self.message,
            "code": self.code,
            "param": self.param,
            "status": self.status,
            "request_id": self.request_id,
            "detail": self.detail,
        }


class ImageSynthWarning(UserWarning):
    """Something about the inputs was changed to make them usable (a mask stretched to the
    image's size, an image cropped square): ``image_synthesize`` issues it with ``warnings.warn``
    before any request is sent; it is also recorded in each image's ``info["warnings"]``."""


# --- before any request: the caller's input -------------------------------------------------
class InputError(ImageSynthError, ValueError):
    """The call itself is wrong (prompt, n, size, parameter, options)."""


class ImageInputError(InputError):
    """An input image or mask cannot be used (format, size, truncated, bomb)."""


class ConfigurationError(ImageSynthError):
    """No usable credentials or endpoint."""


# --- from the service ---------------------------------------------------------------------
class APIError(ImageSynthError):
    """The endpoint answered with an error."""


class AuthenticationError(APIError):
    """401: the key was refused."""


class PermissionDeniedError(APIError):
    """403: e.g. organization not verified for this model."""


class NotFoundError(APIError):
    """404: unknown model or endpoint path."""


class BadRequestError(APIError):
    """400 and other 4xx that will not succeed if repeated."""


class ModerationError(BadRequestError):
    """Refused by the safety system, at input or output (``stage``)."""

    def __init__(self, message: str, *, stage: str = "input", **kw):
        super().__init__(message, **kw)
        self.stage = stage


class QuotaExceededError(APIError):
    """429 insufficient_quota: out of credits. Retrying does not help."""


class RateLimitError(APIError):
    """429 rate limit: retry after a while."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx, 408, 409: the service failed; retrying may help."""

    retryable = True


class ConnectionFailed(ImageSynthError):
    """No answer: network down, DNS, CORS refusal, reset."""

    retryable = True


class TimeoutError_(ImageSynthError):
    """The endpoint did not answer in time."""

    retryable = True


class ResponseError(ImageSynthError):
    """The endpoint answered something that is not a valid images response."""


class Cancelled(ImageSynthError):
    """The user cancelled the request."""
