"""Fault injection: make the sandbox fail on purpose, the way the real API fails.

A request asks for a fault by a prompt containing ``[[sandbox:FAULT]]`` or by
the header ``X-Sandbox-Fault: FAULT`` (several: comma-separated).  FAULT is
``NAME``, ``NAME:N`` (only the first N requests with this fault and prompt
fail; later ones succeed, which is how retry logic is tested), or for ``slow``
``slow:SECONDS`` / ``slow:SECONDS:N``.

Counts are kept per (fault, prompt) so that tests running in parallel with
different prompts do not use up each other's faults.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from .apierrors import SandboxError

FAULT_NAMES = (
    "rate_limit", "quota", "server_error", "overloaded", "slow", "timeout",
    "moderation_input", "moderation_output", "org_verification", "stream_error",
)
MARKER = re.compile(r"\[\[sandbox:([^\]]*)\]\]")


@dataclass(frozen=True)
class Fault:
    name: str
    seconds: float = 0.0  # for slow
    limit: int | None = None  # fail only the first `limit` times


def parse_fault(text: str, source: str = "X-Sandbox-Fault") -> Fault:
    """One ``NAME[:ARG][:N]``; an unknown name is a 400 so a typo in a test is loud."""
    parts = [p.strip() for p in text.strip().split(":")]
    name, args = parts[0], parts[1:]
    if name not in FAULT_NAMES:
        raise SandboxError(400, f"Unknown sandbox fault '{name}' in {source}. "
                                f"Known faults: {', '.join(FAULT_NAMES)}.", param=source, code="invalid_value")
    try:
        if name == "slow":
            if not args:
                raise ValueError
            seconds = float(args[0])
            if not 0 <= seconds <= 3600:
                raise ValueError
            limit = int(args[1]) if len(args) > 1 else None
            if len(args) > 2:
                raise ValueError
            return Fault(name, seconds, limit)
        if len(args) > 1:
            raise ValueError
        return Fault(name, 0.0, int(args[0]) if args else None)
    except ValueError:
        raise SandboxError(400, f"Malformed sandbox fault '{text}' in {source}: use NAME, NAME:N, "
                                "slow:SECONDS or slow:SECONDS:N.", param=source, code="invalid_value") from None


def requested_faults(prompt: str | None, header: str | None) -> list[Fault]:
    """Every fault a request asks for, header first, then the prompt's markers."""
    faults: list[Fault] = []
    if header:
        faults += [parse_fault(t) for t in header.split(",") if t.strip()]
    if prompt:
        faults += [parse_fault(m.group(1), "prompt") for m in MARKER.finditer(prompt)]
    return faults


def strip_markers(prompt: str) -> str:
    """The prompt without fault markers, for drawing on the picture."""
    return " ".join(MARKER.sub(" ", prompt).split())


class FaultState:
    """How many times each (fault, key) has fired, so ``:N`` faults stop after N."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def fires(self, fault: Fault, key: str) -> bool:
        if fault.limit is None:
            return True
        k = (f"{fault.name}:{fault.seconds}", key)
        with self._lock:
            n = self._counts.get(k, 0)
            if n >= fault.limit:
                return False
            self._counts[k] = n + 1
            return True

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


# --- the errors each fault produces ----------------------------------------------------------
def fault_error(name: str, *, model: str, request_id: str, retry_after: float) -> SandboxError:
    """The error a fault answers with, worded and typed as OpenAI does."""
    if name == "rate_limit":
        secs = f"{retry_after:g}"
        return SandboxError(
            429, f"Rate limit reached for {model} (sandbox) on images per minute: Limit 5, Used 5, Requested 1. "
                 f"Please try again in {secs}s.",
            type="requests", code="rate_limit_exceeded", headers={"Retry-After": secs})
    if name == "quota":
        return SandboxError(429, "You exceeded your current quota, please check your plan and billing details. "
                                 "(sandbox fault)", type="insufficient_quota", code="insufficient_quota")
    if name in ("server_error", "stream_error"):
        return SandboxError(500, "The server had an error while processing your request. Sorry about that! "
                                 f"(sandbox fault, request ID {request_id})", type="server_error")
    if name == "overloaded":
        return SandboxError(503, "The engine is currently overloaded, please try again later. (sandbox fault)",
                            type="server_error", code="overloaded")
    if name == "org_verification":
        return SandboxError(403, f"Your organization must be verified to use the model `{model}`. Please go to: "
                                 "https://platform.openai.com/settings/organization/general and click on Verify "
                                 "Organization. If you just verified, it can take up to 15 minutes for access to "
                                 "propagate. (sandbox fault)")
    if name == "moderation_input":
        return SandboxError(400, "Your request was rejected by the safety system. If you believe this is an error, "
                                 f"contact us at help.openai.com and include the request ID {request_id}. "
                                 "(sandbox fault)",
                            type="image_generation_user_error", param="prompt", code="moderation_blocked")
    if name == "moderation_output":
        return SandboxError(400, "The generated image was rejected by the safety system. If you believe this is an "
                                 f"error, contact us at help.openai.com and include the request ID {request_id}. "
                                 "(sandbox fault)",
                            type="image_generation_user_error", param=None, code="moderation_blocked")
    raise ValueError(name)
