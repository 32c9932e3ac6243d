"""Share links: the prompt and settings in the URL fragment, and nothing else.

Why the fragment: browsers never send it to a server, so a shared prompt
reaches no host's logs (ours included).  Why readable: people look at a link
before they click it, and ``#p=a%20cat&n=3&size=Small`` shows what it will do.

What a link may carry is an allow-list (``FIELDS``), not a deny-list: a key,
a base URL, an organization or an image can never end up in a link, whatever
the page passes in.  Decoding treats the fragment as hostile (anyone can
hand-craft one): it never raises, it keeps only known fields, it checks each
value against the core's model table and ``ImageSize`` rules, clamps numbers,
and says what it changed in plain sentences (``warnings``) that the page shows
as text.  Opening a link only fills the form; running is the user's click.

Pure Python, standard library and the core only: runs on CPython for tests.

The settings dict (the page's form) uses these keys, all optional::

    task            "generate" | "vary" | "inpaint"
    prompt          str
    n               int 1..10
    size            "Automatic" | "Small" | "Medium" | "Large" | "WxH"
    model           str (a known model, a dated snapshot, or a compatible server's own id)
    quality, style, background, output_format, moderation, input_fidelity   str
    output_compression   int 0..100
    stream          bool
    partial_images  int 0..3
    paste_back      bool
    feather         int 0..128
"""

from __future__ import annotations

import re
from typing import Any

from imagesynth.errors import InputError
from imagesynth.models import MODELS, ModelProfile, profile_for
from imagesynth.sizes import NAMED_SIZES, parse_image_size, resolve_size

#: bumped when the meaning of a field changes; links without ``v`` are version 1
VERSION = 1

#: the settings a link may carry, in the order a link lists them (prompt first: it is what
#: a reader looks for; ``v`` goes last so a prompt's final "." or "!" is never the link's
#: last character, which chat apps' link detectors tend to cut off)
FIELDS = ("prompt", "n", "size", "model", "task", "quality", "style", "background", "output_format",
          "output_compression", "moderation", "input_fidelity", "stream", "partial_images",
          "paste_back", "feather")
#: names in the link that differ from the settings key (the prompt is the long one: keep it short)
_LINK_NAME = {"prompt": "p"}
_ALIASES = {"p": "prompt", "prompt": "prompt", "v": "v", "version": "v"}
_ALIASES.update({f: f for f in FIELDS})

TASKS = ("generate", "vary", "inpaint")
#: model options that take one of a fixed set of words (the model table says which)
ENUM_OPTIONS = ("quality", "style", "background", "output_format", "moderation", "input_fidelity")
MAX_N = 10  # the form's limit; the core splits n into requests where a model takes fewer
MAX_FEATHER = 128
MAX_EDGE = 4096  # the form's limit for a custom size when no known model says otherwise
#: the longest prompt any model in the table takes; longer prompts are cut (with a warning)
MAX_PROMPT = max(p.max_prompt for p in MODELS.values())
#: a link longer than this is refused unread: the longest prompt, every character an emoji
#: percent-encoded (12 characters each), plus room for the other fields
MAX_FRAGMENT = MAX_PROMPT * 12 + 4096
MAX_FIELDS = 64
MAX_VALUE = 200  # characters of any value but the prompt
MAX_WARNINGS = 20
#: links longer than this may be cut by mail clients and chat apps (the page may say so)
LONG_LINK = 2000

#: safe in a fragment (RFC 3986 pchar minus our separators & = + and minus ' ( ) * which
#: break links pasted into Markdown, HTML attributes or chat apps); the rest is percent-encoded
_SAFE = "/:@!$,;?"

_SECRET_NAME = re.compile(
    r"(key|secret|token|passw|pwd|authori[sz]|^auth|credential|cookie|bearer|session|signature|sig$|"
    r"^org|organi[sz]ation|project)",
    re.IGNORECASE,
)
_PLACE_NAME = re.compile(r"(url|uri|endpoint|host|server|base|deployment|api[_-]?version|proxy)", re.IGNORECASE)
_IMAGE_NAME = re.compile(r"(image|img|mask|picture|photo|png|jpe?g|webp|b64|base64|data|blob|file)",
                         re.IGNORECASE)
#: an API key by its look (OpenAI's sk-/sess-/rk- keys), wherever it sits
_SECRET_VALUE = re.compile(r"(?<![A-Za-z0-9])(?:sk|sess|rk)-[A-Za-z0-9_\-]{20,}")
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+\-]{0,99}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


# ------------------------------------------------------------------------------ encoding
def encode_fragment(settings: dict) -> str:
    """The fragment (without ``#``) for ``settings``: validated first, so only allowed,
    well-formed values reach the link; fields the page passes that are not settings
    (a key, a base URL, an image) are simply not in the allow-list."""
    from urllib.parse import quote  # here, not at the top: urllib.parse imports ipaddress, ~40 ms of the page's start

    clean, _warnings = validate_settings(settings)
    parts = []
    for name in FIELDS:
        if name in clean:
            parts.append(f"{_LINK_NAME.get(name, name)}={quote(_text_of(clean[name]), safe=_SAFE)}")
    parts.append(f"v={VERSION}")
    return "&".join(parts)


def share_url(page_url: str, settings: dict) -> str:
    """The page's address with a fresh fragment.  The old fragment goes (it may be another
    share), and so do the query and any user:password@ part: an address bar can hold
    credentials a user would never mean to share."""
    from urllib.parse import urlsplit  # here, not at the top: urllib.parse imports ipaddress, ~40 ms of the page's start

    try:
        u = urlsplit(str(page_url))
        host = u.netloc.rpartition("@")[2]
        base = f"{u.scheme}://{host}{u.path}" if u.scheme else (host + u.path)
    except ValueError:
        base = str(page_url).split("#", 1)[0].split("?", 1)[0]
    return f"{base}#{encode_fragment(settings)}"


def is_long(url: str) -> bool:
    """Whether a link is long enough that some apps may cut it (the page may warn)."""
    return len(url) > LONG_LINK


def _text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ------------------------------------------------------------------------------ decoding
def decode_fragment(fragment: str) -> tuple[dict, list[str]]:
    """(settings, warnings) from a fragment (with or without its leading ``#``).

    Never raises: whatever a link holds, the worst outcome is an empty dict and a sentence."""
    try:
        return _decode(fragment)
    except Exception:  # a bug here must not stop the page from starting
        return {}, ["This link could not be read, so the form was left as it was."]


def _decode(fragment: Any) -> tuple[dict, list[str]]:
    w = _Warnings()
    if not isinstance(fragment, str):
        return {}, ["This link could not be read, so the form was left as it was."]
    if len(fragment) > MAX_FRAGMENT:
        return {}, [f"This link is {len(fragment):,} characters long, more than any prompt needs, "
                    "so it was not read."]
    fragment = fragment[1:] if fragment.startswith("#") else fragment
    if not fragment.strip():
        return {}, []
    raw: dict[str, Any] = {}
    seen: set[str] = set()
    pieces = fragment.split("&")
    if len(pieces) > MAX_FIELDS:
        w.add(f"This link has {len(pieces)} fields; only the first {MAX_FIELDS} were read.")
        pieces = pieces[:MAX_FIELDS]
    for piece in pieces:
        if not piece:
            continue
        name_enc, _, value_enc = piece.partition("=")
        name = _unquote(name_enc, w).strip().lower()
        shown = _show(name)
        if _SECRET_NAME.search(name) and name not in _ALIASES:
            w.add(f"The link carried a field “{shown}”, which was ignored: share links never carry keys "
                  "or credentials.")
            continue
        key = _ALIASES.get(name)
        if key is None:
            if _PLACE_NAME.search(name):
                w.add(f"The link carried a field “{shown}”, which was ignored: share links never set where "
                      "requests go; choose the connection yourself.")
            elif _IMAGE_NAME.search(name):
                w.add(f"The link carried a field “{shown}”, which was ignored: share links never carry images.")
            else:
                w.add(f"The link carried an unknown field “{shown}”, which was ignored.")
            continue
        if key in seen:
            w.add(f"The field “{shown}” appears more than once in the link; the first one was used.")
            continue
        seen.add(key)
        if key != "prompt" and len(value_enc) > MAX_VALUE * 12:
            w.add(f"The value of “{shown}” in the link is far too long, so it was ignored.")
            continue
        value = _unquote(value_enc, w)
        if key == "v":
            version = _int(value)
            if version is None:
                w.add("The link's version is not a number; it was read as version 1.")
            elif version > VERSION:
                w.add("This link was made by a newer imagesynth; settings this version does not know "
                      "were ignored.")
            continue
        raw[key] = value
    settings, more = validate_settings(raw)
    for m in more:
        w.add(m)
    return settings, w.items


def _unquote(text: str, w: "_Warnings") -> str:
    from urllib.parse import unquote  # here, not at the top: urllib.parse imports ipaddress, ~40 ms of the page's start

    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        w.add("Part of the link was not valid text; the unreadable characters were replaced.")
        return unquote(text, errors="replace")


def _show(name: str) -> str:
    """A name or value fit to quote in a message: short, printable (the page shows it as text),
    and never a key, not even its first characters."""
    name = _SECRET_VALUE.sub("[key removed]", _CONTROL.sub("", name).replace("\n", " ").replace("\r", " "))
    return name if len(name) <= 30 else name[:29] + "…"


class _Warnings:
    """At most MAX_WARNINGS sentences, so a hostile link cannot flood the page."""

    def __init__(self):
        self.items: list[str] = []
        self._dropped = 0

    def add(self, message: str) -> None:
        if message in self.items:
            return
        if len(self.items) < MAX_WARNINGS - 1:
            self.items.append(message)
        elif not self._dropped:
            self._dropped = 1
            self.items.append("There were more problems with this link; only the first were listed.")


# ---------------------------------------------------------------------------- validation
def validate_settings(raw: Any) -> tuple[dict, list[str]]:
    """(settings, warnings): the allowed fields of ``raw`` with values checked against the
    model table.  Values may be strings (from a link) or typed (from a PNG or the page).
    Shared by links, PNG restore and anything else that fills the form from outside."""
    if not isinstance(raw, dict):
        return {}, ["These settings could not be read."]
    w = _Warnings()
    out: dict[str, Any] = {}
    get = {str(k).lower(): v for k, v in raw.items() if str(k).lower() in FIELDS}

    if "task" in get:
        task = _word(get["task"])
        if task in TASKS:
            out["task"] = task
        else:
            w.add(f"The task “{_show(str(get['task']))}” is not one of generate, vary or inpaint; "
                  "it was ignored.")

    profile: ModelProfile | None = None
    if "model" in get:
        model = get["model"]
        if not isinstance(model, str) or not _MODEL_ID.match(model.strip()):
            w.add("The model name was not a model name; it was ignored.")
        elif _SECRET_VALUE.search(model):
            w.add("The model name looked like an API key; it was ignored.")
        else:
            out["model"] = model.strip()
            profile = profile_for(out["model"])
            if profile is None:
                w.add(f"imagesynth does not know the model “{_show(out['model'])}”; it is used only if your "
                      "endpoint offers it.")

    if "prompt" in get:
        prompt = _clean_text(get["prompt"])
        if prompt is None:
            w.add("The prompt was not text; it was ignored.")
        else:
            if _SECRET_VALUE.search(prompt):
                prompt = _SECRET_VALUE.sub("[key removed]", prompt)
                w.add("The prompt contained something that looked like an API key; it was removed.")
            if len(prompt) > MAX_PROMPT:
                prompt = prompt[:MAX_PROMPT]
                w.add(f"The prompt was longer than {MAX_PROMPT:,} characters, the most any model takes; "
                      "it was shortened.")
            if profile is not None and len(prompt) > profile.max_prompt:
                w.add(f"The prompt has {len(prompt):,} characters; {profile.id} takes at most "
                      f"{profile.max_prompt:,}. Shorten it or choose another model.")
            out["prompt"] = prompt

    if "n" in get:
        n = _int(get["n"])
        if n is None:
            w.add("The number of images was not a whole number; it was ignored.")
        else:
            out["n"] = _clamp(n, 1, MAX_N, "The number of images", w)

    if "size" in get:
        size = _size(get["size"], profile, w)
        if size is not None:
            out["size"] = size

    operation = _operation(out.get("task", "generate"), profile)
    allowed = _allowed_params(profile, operation)
    where = f"{profile.id}" if profile is not None else "any model imagesynth knows"

    for name in ENUM_OPTIONS:
        if name not in get:
            continue
        value = _word(get[name])
        label = name.replace("_", " ")
        if name not in allowed:
            w.add(f"{where} has no {label} option; the link's {label} was ignored.")
        elif allowed[name] is not None and value not in [str(v) for v in allowed[name]]:
            choices = ", ".join(str(v) for v in allowed[name])
            w.add(f"The {label} “{_show(str(get[name]))}” is not one {where} offers ({choices}); it was ignored.")
        else:
            out[name] = value

    if "output_compression" in get:
        c = _int(get["output_compression"])
        if c is None:
            w.add("The output compression was not a whole number; it was ignored.")
        elif "output_compression" not in allowed:
            w.add(f"{where} has no output compression option; it was ignored.")
        else:
            out["output_compression"] = _clamp(c, 0, 100, "The output compression", w)

    if "stream" in get:
        s = _bool(get["stream"])
        if s is None:
            w.add("The stream setting was not true or false; it was ignored.")
        elif s and profile is not None and not profile.streaming:
            w.add(f"{profile.id} does not stream previews; the stream setting was ignored.")
        else:
            out["stream"] = s

    if "partial_images" in get:
        p = _int(get["partial_images"])
        top = profile.max_partial_images if profile is not None else max(m.max_partial_images
                                                                         for m in MODELS.values())
        if p is None:
            w.add("The number of previews was not a whole number; it was ignored.")
        else:
            out["partial_images"] = _clamp(p, 0, top, "The number of previews", w)

    if "paste_back" in get:
        b = _bool(get["paste_back"])
        if b is None:
            w.add("The paste-back setting was not true or false; it was ignored.")
        else:
            out["paste_back"] = b

    if "feather" in get:
        f = _int(get["feather"])
        if f is None:
            w.add("The feather width was not a whole number of pixels; it was ignored.")
        else:
            out["feather"] = _clamp(f, 0, MAX_FEATHER, "The feather width", w)

    return {k: out[k] for k in FIELDS if k in out}, w.items


def _operation(task: str, profile: ModelProfile | None) -> str:
    if task == "inpaint":
        return "edit"
    if task == "vary":
        return "variation" if profile is not None and profile.variation else "edit"
    return "generate"


def _allowed_params(profile: ModelProfile | None, operation: str) -> dict[str, tuple | None]:
    """The options the model takes for the operation; with no known model, the union over the
    table (a link for a compatible server's own model is checked as loosely as we can)."""
    if profile is not None:
        return profile.params_for(operation)
    union: dict[str, tuple | None] = {}
    for m in MODELS.values():
        for op in ("generate", "edit", "variation"):
            for k, v in m.params_for(op).items():
                if k in union and (union[k] is None or v is None):
                    union[k] = None
                elif k in union:
                    union[k] = tuple(dict.fromkeys(union[k] + v))
                else:
                    union[k] = v
    return union


def _size(value: Any, profile: ModelProfile | None, w: _Warnings) -> str | None:
    """A size the form can show: a name, "Automatic" or "WxH"; None (and a warning) if the model
    cannot make it, so the form keeps its own choice instead of failing at Generate."""
    if isinstance(value, str) and len(value) > MAX_VALUE:
        w.add("The image size in the link is not a size; it was ignored.")
        return None
    if isinstance(value, list):
        value = tuple(value)
    try:
        parsed = parse_image_size(value)
    except (InputError, TypeError, ValueError, OverflowError):
        w.add(f"The image size “{_show(str(value))}” is not a size (use Small, Medium, Large or WIDTHxHEIGHT); "
              "it was ignored.")
        return None
    if parsed is None:
        return "Automatic"
    for name, wh in NAMED_SIZES.items():
        if wh == parsed:
            text = name.capitalize()
            break
    else:
        text = f"{parsed[0]}x{parsed[1]}"
    if profile is not None:
        try:
            resolve_size(profile, parsed)
        except (InputError, ValueError, ZeroDivisionError, OverflowError) as exc:
            w.add(f"{exc} The link's size was ignored.")
            return None
    elif max(parsed) > MAX_EDGE:
        w.add(f"The image size {text} is larger than {MAX_EDGE} pixels on an edge; it was ignored.")
        return None
    return text


def _clean_text(value: Any) -> str | None:
    """The prompt as the user wrote it, minus what no prompt means: control characters other
    than tab and newlines, and unpaired surrogates (a JavaScript string can hold them; UTF-8,
    and so a link or a request body, cannot)."""
    if not isinstance(value, str):
        return None
    value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _CONTROL.sub("", value)


def _word(value: Any) -> str:
    return str(value).strip().lower() if isinstance(value, (str, int, float)) and not isinstance(value, bool) \
        else ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,9}\s*", value):
        return int(value)
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    return None


def _clamp(value: int, low: int, high: int, label: str, w: _Warnings) -> int:
    if value < low or value > high:
        clamped = min(max(value, low), high)
        w.add(f"{label} must be from {low} to {high}; {value} was changed to {clamped}.")
        return clamped
    return value
