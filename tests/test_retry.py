"""Which failures are retried, how long the waits are, and that Retry-After is honoured."""

import random

import pytest

from imagesynth import errors
from imagesynth.retry import RetryPolicy, call_with_retries, is_retryable


@pytest.mark.parametrize("err", [
    errors.RateLimitError("slow down", status=429, code="rate_limit_exceeded"),
    errors.ServerError("boom", status=500),
    errors.ServerError("busy", status=503),
    errors.ServerError("timeout", status=408),
    errors.ServerError("conflict", status=409),
    errors.ConnectionFailed("down"),
    errors.TimeoutError_("slow"),
    errors.APIError("gateway", status=502),  # a plain APIError: judged by its status
    ConnectionResetError("reset"),
    TimeoutError("builtin"),
])
def test_retryable(err):
    assert is_retryable(err)


@pytest.mark.parametrize("err", [
    errors.QuotaExceededError("no credits", status=429, code="insufficient_quota"),
    errors.APIError("no credits", status=429, code="insufficient_quota"),
    errors.ModerationError("refused", status=400, code="moderation_blocked"),
    errors.BadRequestError("bad", status=400),
    errors.AuthenticationError("key", status=401),
    errors.PermissionDeniedError("verify", status=403),
    errors.NotFoundError("model", status=404),
    errors.InputError("prompt"),
    errors.ConfigurationError("no key"),
    errors.ResponseError("garbage"),
    ValueError("bug"),
])
def test_not_retryable(err):
    assert not is_retryable(err)


def test_full_jitter_within_exponential_ceiling():
    p = RetryPolicy(max_retries=10, base=1.0, cap=8.0, rng=random.Random(1))
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (9, 8)]:
        waits = [p.delay(attempt) for _ in range(200)]
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.8  # really spread over the range, not a constant
        assert min(waits) < ceiling * 0.2


def test_gives_up_after_max_retries():
    p = RetryPolicy(max_retries=2)
    assert p.delay(2) is not None and p.delay(3) is None


def test_retry_after_is_a_floor():
    p = RetryPolicy(base=1.0, rng=random.Random(0))
    e = errors.RateLimitError("x", retry_after=7.0)
    waits = [p.delay(1, e) for _ in range(50)]
    assert all(7.0 <= w <= 8.0 for w in waits)


def test_too_long_retry_after_is_not_waited_for():
    p = RetryPolicy(max_retry_after=60)
    assert p.delay(1, errors.RateLimitError("x", retry_after=600)) is None


async def test_call_with_retries_retries_then_succeeds():
    calls, slept, told = [], [], []

    async def attempt():
        calls.append(1)
        if len(calls) < 3:
            raise errors.RateLimitError("429", status=429)
        return "ok"

    async def sleep(s):
        slept.append(s)

    result = await call_with_retries(attempt, RetryPolicy(max_retries=4, rng=random.Random(2)),
                                     on_retry=lambda e, w, n: told.append((type(e).__name__, n)), sleep=sleep)
    assert result == "ok" and len(calls) == 3 and len(slept) == 2
    assert told == [("RateLimitError", 1), ("RateLimitError", 2)]


async def test_call_with_retries_raises_at_once_for_final_errors():
    calls = []

    async def attempt():
        calls.append(1)
        raise errors.QuotaExceededError("no credits", status=429, code="insufficient_quota")

    async def sleep(s):  # pragma: no cover - must not be called
        raise AssertionError("slept")

    with pytest.raises(errors.QuotaExceededError):
        await call_with_retries(attempt, RetryPolicy(), sleep=sleep)
    assert len(calls) == 1


async def test_call_with_retries_raises_last_error_when_exhausted():
    calls = []

    async def attempt():
        calls.append(1)
        raise errors.ServerError(f"fail {len(calls)}", status=500)

    async def sleep(s):
        pass

    with pytest.raises(errors.ServerError, match="fail 3"):
        await call_with_retries(attempt, RetryPolicy(max_retries=2), sleep=sleep)
    assert len(calls) == 3
