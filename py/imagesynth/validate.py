"""A job checked against its model's profile, before any request is sent.

A request the API will refuse costs a round trip, and for some refusals a
quota slot; worse, the API's wording names parameters, not what to do.  Each
check here says what is wrong and how to fix it, in the user's terms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import InputError
from .models import MODELS, ModelProfile
from .sizes import size_allowed

if TYPE_CHECKING:  # pragma: no cover
    from .protocol import Job

OPERATIONS = ("generate", "edit", "variation")
_VERB = {"generate": "generate images", "edit": "edit images", "variation": "make variations"}
MAX_N = 10


def models_taking(param: str, operation: str) -> list[str]:
    """Known models that take ``param`` on ``operation`` (for "use one of these" hints)."""
    return [m.id for m in MODELS.values() if m.supports(operation) and param in m.params_for(operation)]


def models_supporting(operation: str) -> list[str]:
    return [m.id for m in MODELS.values() if m.supports(operation)]


def _fmt(values) -> str:
    return ", ".join(repr(v) if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)
                     for v in values)


def validate_job(profile: ModelProfile | None, job: "Job") -> None:
    """Raise InputError for anything the model would refuse.

    ``profile`` None (a model this table does not know, on a compatible server)
    gets only the checks the contract makes for every model.
    """
    op = job.operation
    if op not in OPERATIONS:
        raise InputError(f"Unknown operation {op!r}; use one of {_fmt(OPERATIONS)}.")
    if profile is not None and not profile.supports(op):
        others = models_supporting(op)
        raise InputError(
            f"{profile.id} cannot {_VERB[op]}. Choose a model that can: {', '.join(others) or 'none known'}."
        )
    _check_prompt(profile, job)
    _check_n(profile, job)
    _check_inputs(profile, job)
    if profile is None:
        return
    _check_size(profile, job)
    _check_params(profile, job)
    _check_stream(profile, job)


def _check_prompt(profile, job) -> None:
    if job.operation == "variation":
        if job.prompt:
            raise InputError("Variations take no prompt. Remove the prompt, or ask for an edit instead.")
        return
    if job.prompt is None or not str(job.prompt).strip():
        raise InputError("The prompt is empty. Describe the image you want.")
    if not isinstance(job.prompt, str):
        raise InputError("The prompt must be text.")
    limit = profile.max_prompt if profile is not None else 32000
    if len(job.prompt) > limit:
        who = profile.id if profile is not None else "the API"
        raise InputError(
            f"The prompt is {len(job.prompt):,} characters long; {who} takes at most {limit:,}. Shorten it."
        )


def _check_n(profile, job) -> None:
    n = job.n
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_N:
        raise InputError(f"The number of images must be a whole number from 1 to {MAX_N}, not {n!r}.")
    if profile is not None and n > profile.max_n:
        raise InputError(
            f"{profile.id} makes at most {profile.max_n} image(s) per request, not {n}; "
            f"send several requests (image_synthesize does this for you)."
        )


def _check_inputs(profile, job) -> None:
    count = len(job.images)
    if job.operation == "generate":
        if count or job.mask is not None:
            raise InputError("Generating from text takes no input image; use an edit or a variation.")
        return
    if count == 0:
        raise InputError(f"To {_VERB[job.operation]} an input image is needed.")
    if job.operation == "variation":
        if count != 1:
            raise InputError(f"A variation takes exactly one image, not {count}.")
        if job.mask is not None:
            raise InputError("A variation takes no mask; use an edit (a prompt and a mask) to change part of an image.")
        return
    most = profile.max_edit_images if profile is not None else 16
    if count > most:
        who = profile.id if profile is not None else "The API"
        raise InputError(f"{who} edits at most {most} image(s) at once, not {count}.")


def _check_size(profile: ModelProfile, job) -> None:
    if job.size is None:
        return
    if not size_allowed(profile, job.size):
        choices = list(profile.sizes.fixed) + (["auto"] if profile.sizes.auto else [])
        extra = " or any WIDTHxHEIGHT within its limits" if profile.sizes.arbitrary else ""
        raise InputError(f"{profile.id} cannot make size {job.size!r}; use one of {_fmt(choices)}{extra}.")


def _check_params(profile: ModelProfile, job) -> None:
    op = job.operation
    taken = profile.params_for(op)
    for name, value in job.params.items():
        if name in ("stream", "partial_images", "size", "n", "prompt", "model", "image", "mask"):
            raise InputError(f"Set {name!r} through the job's own field, not as an extra parameter.")
        if name not in taken:
            others = models_taking(name, op)
            hint = f"Models that take it: {', '.join(others)}." if others else "No known model takes it here."
            raise InputError(f"{profile.id} does not take the parameter {name!r} when asked to {_VERB[op]}. {hint}")
        allowed = taken[name]
        if allowed is not None and value not in allowed:
            raise InputError(f"{name}={value!r} is not allowed for {profile.id}; use one of {_fmt(allowed)}.")
        if name == "output_compression" and (isinstance(value, bool) or not isinstance(value, int)
                                             or not 0 <= value <= 100):
            raise InputError(f"output_compression must be a whole number from 0 to 100, not {value!r}.")
        if name == "user" and not isinstance(value, str):
            raise InputError("The end-user ID must be text.")
    if job.params.get("background") == "transparent" and job.params.get("output_format") == "jpeg":
        raise InputError("A transparent background needs output_format 'png' or 'webp'; JPEG has no transparency.")
    # output_compression with PNG output is meaningless but harmless: build_request leaves it out.


def _check_stream(profile: ModelProfile, job) -> None:
    if job.stream and not profile.streaming:
        others = [m.id for m in MODELS.values() if m.streaming and m.supports(job.operation)]
        raise InputError(f"{profile.id} cannot stream partial images. Turn streaming off, or use {', '.join(others)}.")
    if job.partial_images is not None:
        k = job.partial_images
        top = profile.max_partial_images
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= top:
            raise InputError(f"partial_images must be a whole number from 0 to {top} for {profile.id}, not {k!r}.")
        # partial_images without streaming is harmless: build_request leaves it out.
