"""When to try a request again, and how long to wait first.

Retrying is only worth it where the same request can succeed later: rate
limits, server failures, dropped connections, time-outs.  A request the
service refused on its merits (bad key, unverified organization, out of
credits, moderation, a malformed request) fails the same way every time, and
for a paid API a pointless retry can even cost money — so those are never
retried, whatever their HTTP status.

The wait is exponential backoff with *full jitter* (a uniformly random delay
between 0 and the exponential ceiling): many clients that were rate limited
together do not come back together.  A ``Retry-After`` the server sent is a
floor, because it knows better than our guess.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Awaitable, Callable, TypeVar

from . import errors

T = TypeVar("T")

#: failures that cannot succeed on a second try, whatever their status says
_NEVER = (
    errors.QuotaExceededError,
    errors.ModerationError,
    errors.AuthenticationError,
    errors.PermissionDeniedError,
    errors.NotFoundError,
    errors.InputError,
    errors.ConfigurationError,
    errors.Cancelled,
)
_RETRY_STATUS = {408, 409, 429}


def is_retryable(error: BaseException) -> bool:
    """True where the same request may succeed if sent again."""
    if isinstance(error, _NEVER):
        return False
    if isinstance(error, errors.ImageSynthError):
        if error.retryable:
            return True
        if isinstance(error, errors.APIError) and error.status is not None:
            # a typed error the protocol did not mark retryable: trust the status only for
            # codes that always mean "try later", and never for a code naming a refusal
            if error.code in ("insufficient_quota", "moderation_blocked", "content_policy_violation"):
                return False
            return error.status in _RETRY_STATUS or error.status >= 500
        return False
    # a transport that leaked a builtin network error
    return isinstance(error, (ConnectionError, TimeoutError, asyncio.TimeoutError))


@dataclass
class RetryPolicy:
    """When to send a failed request again and how long to wait first (Retry-After up to a limit)."""
    max_retries: int = 4  # retries after the first attempt; 0 = try once
    base: float = 1.0  # seconds: the ceiling of the first wait
    cap: float = 30.0  # seconds: no computed wait is longer
    #: a Retry-After longer than this is not waited for: the error is raised instead, because a
    #: user watching a progress bar is better told "rate limited, try in 10 minutes"
    max_retry_after: float = 120.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, attempt: int, error: BaseException | None = None) -> float | None:
        """Seconds to wait before retry number ``attempt`` (1-based); None: do not retry."""
        if attempt > self.max_retries:
            return None
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        wait = self.rng.uniform(0, ceiling)
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None and retry_after > 0:
            if retry_after > self.max_retry_after:
                return None
            # the server's floor, plus a little jitter so waiting clients do not stampede
            wait = retry_after + self.rng.uniform(0, min(self.base, ceiling))
        return wait


def describe(error: BaseException) -> str:
    """A few words for a "retrying" progress message."""
    if isinstance(error, errors.RateLimitError):
        return "rate limited"
    if isinstance(error, errors.TimeoutError_):
        return "timed out"
    if isinstance(error, errors.ConnectionFailed):
        return "connection failed"
    status = getattr(error, "status", None)
    if status:
        return f"server error {status}"
    return "request failed"


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[BaseException, float, int], Awaitable[None] | None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``attempt`` until it succeeds, fails for good, or the policy gives up.
    ``on_retry(error, wait, retry_number)`` is told before each wait."""
    retry = 0
    while True:
        try:
            return await attempt()
        except Exception as e:  # CancelledError is a BaseException: it is never caught here
            if not is_retryable(e):
                raise
            retry += 1
            wait = policy.delay(retry, e)
            if wait is None:
                raise
            if on_retry is not None:
                r = on_retry(e, wait, retry)
                if r is not None and hasattr(r, "__await__"):
                    await r
            await sleep(wait)
