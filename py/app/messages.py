"""Errors → what a person reads on the page: a short title and the core's message.

Pure Python (no browser imports) so it is testable on CPython.  The core's
``str(error)`` is already written for people and never holds a key; this adds
a title per kind of failure and says what to do where the core cannot know
(e.g. the app's own buttons).  Never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagesynth import errors as E


@dataclass(frozen=True)
class Message:
    """A failure put for people: what happened and what to do, and how loud to say it."""
    title: str
    text: str
    level: str = "error"  # "error" | "warn" | "info"


# Most specific first: the first isinstance match wins.
_TITLES: tuple[tuple[type, str, str], ...] = (
    (E.Cancelled, "Cancelled", "info"),
    (E.ModerationError, "Refused by the safety system", "error"),
    (E.ImageInputError, "This image can't be used", "error"),
    (E.InputError, "Check the request", "error"),
    (E.ConfigurationError, "Connection not set up", "error"),
    (E.AuthenticationError, "Key refused", "error"),
    (E.PermissionDeniedError, "Not allowed for this model", "error"),
    (E.NotFoundError, "Not found at this endpoint", "error"),
    (E.QuotaExceededError, "Out of credits", "error"),
    (E.RateLimitError, "Rate limited", "warn"),
    (E.BadRequestError, "Request refused", "error"),
    (E.ServerError, "The service failed", "error"),
    (E.ConnectionFailed, "Can't reach the endpoint", "error"),
    (E.TimeoutError_, "Timed out", "error"),
    (E.ResponseError, "Unexpected answer from the endpoint", "error"),
    (E.APIError, "The endpoint returned an error", "error"),
    (E.ImageSynthError, "Something went wrong", "error"),
)

_HINTS: dict[type, str] = {
    E.AuthenticationError: "Open “Connection”, paste a valid key and try again.",
    E.ConfigurationError: "Open “Connection” and choose where images come from.",
}


def title_for(error: BaseException) -> str:
    for cls, title, _level in _TITLES:
        if isinstance(error, cls):
            return title
    return "Something went wrong in the app"


def describe(error: BaseException, *, hints: bool = True) -> Message:
    """The message shown for any exception; unknown ones say so without internals.
    ``hints``: add what to do in the app (off where the user is already doing it)."""
    for cls, title, level in _TITLES:
        if isinstance(error, cls):
            text = str(error).strip() or title
            for hint_cls, hint in _HINTS.items():
                if hints and isinstance(error, hint_cls) and hint not in text:
                    text = f"{text} {hint}"
            return Message(title, text, level)
    name = type(error).__name__
    return Message(
        "Something went wrong in the app",
        f"An unexpected {name} stopped this action. Reload the page and try again; "
        "your images so far are saved in this browser.",
    )


def retrying(error: BaseException | None, message: str) -> Message:
    """A retry in progress ("retrying" progress event)."""
    if isinstance(error, E.RateLimitError) or "rate" in message.lower():
        title = "Rate limited — retrying"
    elif isinstance(error, E.ServerError):
        title = "The service failed — retrying"
    elif isinstance(error, (E.ConnectionFailed, E.TimeoutError_)):
        title = "No answer — retrying"
    else:
        title = "Retrying"
    return Message(title, message or (str(error) if error else "Trying again…"), "warn")
