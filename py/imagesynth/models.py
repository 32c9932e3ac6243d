"""What each image model accepts, as data.

Model facts change faster than code: this table is the one place that knows
them.  Everything else asks it (``profile_for``) instead of branching on a
model name, and ``GET /v1/models`` tells which of these an endpoint offers.
Sources: shared/reference/openai-images-openapi.json (sizes, n, prompt limits,
which parameters each model takes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

GPT_SIZES = ("1024x1024", "1536x1024", "1024x1536")


@dataclass(frozen=True)
class SizeRule:
    """Sizes a model can make: a fixed list, or any W×H within limits."""

    fixed: tuple[str, ...] = ()
    auto: bool = False  # accepts size="auto"
    arbitrary: bool = False  # any WxH satisfying the limits below
    multiple_of: int = 1
    max_edge: int = 0
    min_pixels: int = 0
    max_pixels: int = 0
    max_aspect: float = 1.0  # long edge / short edge


@dataclass(frozen=True)
class ModelProfile:
    """What one model takes and makes, as data: requests are checked and split by it, not by model names."""
    id: str
    family: str  # "dall-e" or "gpt-image"
    released: str  # ISO date; the newest GPT image model is the default
    generate: bool
    edit: bool
    variation: bool  # has /images/variations
    sizes: SizeRule
    max_n: int  # images per request; n above this is split into requests
    max_prompt: int
    # Parameters the model takes on each endpoint, and their allowed values
    # (None: any value of the contract's type).
    generate_params: dict[str, tuple | None] = field(default_factory=dict)
    edit_params: dict[str, tuple | None] = field(default_factory=dict)
    variation_params: dict[str, tuple | None] = field(default_factory=dict)
    streaming: bool = False
    max_partial_images: int = 0
    response_format: bool = False  # takes response_format url/b64_json
    revised_prompt: bool = False  # answers with revised_prompt
    max_edit_images: int = 1
    edit_formats: tuple[str, ...] = ("png",)  # accepted upload formats
    edit_max_bytes: int = 4 * 1024 * 1024
    edit_square: bool = False  # edits and variations need a square image
    edit_requires_rgba: bool = False  # the image's alpha is its mask
    #: longest upload edge worth sending for edits/variations (bigger inputs are downscaled
    #: first: the model works at about its output size, and smaller uploads are faster); 0 = any
    edit_max_edge: int = 0
    #: the contract's limit for ``mask`` (a PNG "less than 4MB") on every model
    edit_mask_max_bytes: int = 4 * 1024 * 1024
    transparent_background: bool = False
    preview_note: str = ""
    # answers with ``usage`` and echoes the size/quality/background/output_format
    # it used (the GPT image models; dall-e answers with ``data`` only)
    reports_usage: bool = False
    # /images/edits also takes a JSON body with ``images`` as URL/file references
    edit_json: bool = False

    def params_for(self, operation: str) -> dict[str, tuple | None]:
        return {
            "generate": self.generate_params,
            "edit": self.edit_params,
            "variation": self.variation_params,
        }[operation]

    def supports(self, operation: str) -> bool:
        return {"generate": self.generate, "edit": self.edit, "variation": self.variation}[operation]


_GPT_COMMON = {
    "quality": ("low", "medium", "high", "auto"),
    "background": ("transparent", "opaque", "auto"),
    "output_format": ("png", "jpeg", "webp"),
    "output_compression": None,
    "moderation": ("low", "auto"),
    "stream": (True, False),
    "partial_images": (0, 1, 2, 3),
    "user": None,
    "size": None,
    "n": None,
}
_GPT_EDIT = {k: v for k, v in _GPT_COMMON.items() if k != "moderation"}
_GPT_EDIT_FIDELITY = {**_GPT_EDIT, "input_fidelity": ("high", "low")}
_GPT_EDIT_LIMITS = dict(
    max_edit_images=16,
    edit_formats=("png", "jpeg", "webp"),
    edit_max_bytes=50 * 1024 * 1024,
    edit_max_edge=2048,
)


def _gpt(id: str, released: str, *, sizes: SizeRule | None = None, fidelity: bool = True, **kw) -> ModelProfile:
    return ModelProfile(
        id=id,
        family="gpt-image",
        released=released,
        generate=True,
        edit=True,
        variation=False,
        sizes=sizes or SizeRule(fixed=GPT_SIZES, auto=True),
        max_n=10,
        max_prompt=32000,
        generate_params=dict(_GPT_COMMON),
        edit_params=dict(_GPT_EDIT_FIDELITY if fidelity else _GPT_EDIT),
        streaming=True,
        max_partial_images=3,
        transparent_background=True,
        reports_usage=True,
        edit_json=True,
        **_GPT_EDIT_LIMITS,
        **kw,
    )


MODELS: dict[str, ModelProfile] = {
    m.id: m
    for m in (
        ModelProfile(
            id="dall-e-2",
            family="dall-e",
            released="2022-11-03",
            generate=True,
            edit=True,
            variation=True,
            sizes=SizeRule(fixed=("256x256", "512x512", "1024x1024")),
            max_n=10,
            max_prompt=1000,
            generate_params={"size": None, "n": None, "response_format": ("url", "b64_json"),
                             "quality": ("standard", "auto"), "user": None},
            edit_params={"size": None, "n": None, "response_format": ("url", "b64_json"), "user": None},
            variation_params={"size": None, "n": None, "response_format": ("url", "b64_json"), "user": None},
            response_format=True,
            edit_square=True,
            edit_requires_rgba=True,
            edit_max_edge=1024,
        ),
        ModelProfile(
            id="dall-e-3",
            family="dall-e",
            released="2023-11-06",
            generate=True,
            edit=False,
            variation=False,
            sizes=SizeRule(fixed=("1024x1024", "1792x1024", "1024x1792")),
            max_n=1,
            max_prompt=4000,
            generate_params={"size": None, "n": None, "response_format": ("url", "b64_json"),
                             "quality": ("standard", "hd", "auto"), "style": ("vivid", "natural"),
                             "user": None},
            response_format=True,
            revised_prompt=True,
        ),
        _gpt("gpt-image-1", "2025-04-23"),
        _gpt("gpt-image-1-mini", "2025-10-06", fidelity=False),
        _gpt("gpt-image-1.5", "2025-12-16"),
        _gpt("chatgpt-image-latest", "2025-12-16"),
        _gpt(
            "gpt-image-2",
            "2026-04-21",
            # the contract: input_fidelity is for gpt-image-1, gpt-image-1.5 "and later models"
            sizes=SizeRule(
                fixed=GPT_SIZES,
                auto=True,
                arbitrary=True,
                multiple_of=16,
                max_edge=3840,
                min_pixels=655_360,
                max_pixels=3840 * 2160,
                max_aspect=3.0,
            ),
            preview_note="transparent backgrounds are in preview on gpt-image-2",
        ),
    )
}

# Dated snapshots (gpt-image-2-2026-04-21) behave as their model.
def _base_id(model_id: str) -> str:
    for mid in sorted(MODELS, key=len, reverse=True):
        if model_id == mid or (model_id.startswith(mid + "-") and model_id[len(mid) + 1 :][:4].isdigit()):
            return mid
    return model_id


def profile_for(model_id: str) -> ModelProfile | None:
    """The profile of a model id or of one of its dated snapshots; None if unknown."""
    base = MODELS.get(_base_id(model_id))
    if base is None or base.id == model_id:
        return base
    from dataclasses import replace

    return replace(base, id=model_id)


def default_model(available: Iterable[str] | None = None, operation: str = "generate") -> str:
    """The newest GPT image model the endpoint lists (all known ones if it lists none)."""
    ids = list(available) if available is not None else list(MODELS)
    known = [p for p in (profile_for(i) for i in ids) if p is not None and p.supports(operation)]
    gpt = [p for p in known if p.family == "gpt-image"] or known
    if not gpt:
        gpt = [p for p in MODELS.values() if p.supports(operation)]
    # chatgpt-image-latest is an alias that moves; prefer a named model released the same day.
    gpt.sort(key=lambda p: (p.released, not p.id.startswith("chatgpt")), reverse=True)
    return gpt[0].id


def image_models(available: Iterable[str]) -> list[str]:
    """The ids in a /v1/models listing that are image models we know how to drive."""
    return [i for i in available if profile_for(i) is not None]
