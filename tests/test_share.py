"""Share links: any prompt survives the round trip, a link never carries a key, and a
hand-made (hostile) fragment never breaks the page."""

from __future__ import annotations

import random
import string
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))

from app import share  # noqa: E402
from app.share import decode_fragment, encode_fragment, share_url, validate_settings  # noqa: E402

KEY = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd"

# Pieces a hostile or merely unusual prompt is made of.
_PIECES = [
    *string.ascii_letters, *string.digits, " ", "  ", "\n", "\r\n", "\t",
    "&", "=", "#", "%", "%25", "%2", "%zz", "+", "?", "/", ";", ":", "@", "!", "$", ",",
    "'", '"', "(", ")", "*", "<", ">", "[", "]", "{", "}", "\\", "|", "^", "`", "~",
    "<script>alert(1)</script>", '<script type="py">import js</script>', "<img src=x onerror=alert(1)>",
    "p=", "&p=evil", "&api_key=sk-", "#p=x", "v=2", "%0A", "%F0%9F",
    "é", "ß", "東京", "Kraków", "ñ", "ﷺ", "مرحبا", "שלום", "\u202e", "\u200b", "\ufeff", "\u2028", "\u00a0",
    "e\u0301", "🐈", "👩‍👩‍👧", "🇺🇦", "🏳️‍🌈", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\U0010fffd",
]


def hostile_prompts(count: int, seed: int = 20260614):
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 60)))


def test_readable_link():
    frag = encode_fragment({"prompt": "a cat on a mat", "n": 3, "size": "Small", "model": "gpt-image-1"})
    assert frag == "p=a%20cat%20on%20a%20mat&n=3&size=Small&model=gpt-image-1&v=1"


def test_round_trip_many_hostile_prompts():
    for prompt in hostile_prompts(2000):
        settings = {"prompt": prompt, "n": 2, "size": "Medium", "model": "gpt-image-1", "quality": "high",
                    "task": "generate"}
        frag = encode_fragment(settings)
        assert frag.isascii() and " " not in frag and "#" not in frag and "\n" not in frag
        # the separators are ours alone: the prompt's & and = are encoded
        assert [p.split("=")[0] for p in frag.split("&")] == ["p", "n", "size", "model", "task", "quality", "v"]
        back, warnings = decode_fragment("#" + frag)
        assert back == settings, (prompt, frag)
        assert warnings == []


def test_round_trip_through_a_whole_url():
    prompt = 'She said "hi" & left; 100% #1 <script>\n🐈 東京'
    url = share_url("https://example.org/imagesynth/index.html?x=1#p=old", {"prompt": prompt, "n": 1})
    assert url.startswith("https://example.org/imagesynth/index.html#")
    back, _ = decode_fragment(urlsplit(url).fragment)
    assert back == {"prompt": prompt, "n": 1}


def test_letters_stay_readable():
    frag = encode_fragment({"prompt": "Kraków, at night: 3 cats/dogs!"})
    assert frag.startswith("p=Krak%C3%B3w,%20at%20night:%203%20cats/dogs!&")


def test_link_ends_with_version_so_trailing_punctuation_is_not_cut():
    assert encode_fragment({"prompt": "a cat."}).endswith("&v=1")


@pytest.mark.parametrize("extra", [
    {"api_key": KEY}, {"key": KEY}, {"authorization": f"Bearer {KEY}"}, {"token": KEY},
    {"base_url": "https://user:secret@example.com/v1"}, {"organization": "org-123"},
    {"image": b"\x89PNG..."}, {"mask": b"..."}, {"connection": {"api_key": KEY}},
])
def test_link_never_carries_a_key_a_place_or_an_image(extra):
    settings = {"prompt": "a cat", "n": 1, **extra}
    frag = encode_fragment(settings)
    assert frag == "p=a%20cat&n=1&v=1"
    url = share_url("https://user:secret@example.com/app/?api_key=" + KEY + "#old", settings)
    assert url == "https://example.com/app/#p=a%20cat&n=1&v=1"
    assert KEY not in url and "secret" not in url


def test_a_key_pasted_into_the_prompt_is_removed():
    frag = encode_fragment({"prompt": f"a cat {KEY} on a mat"})
    assert KEY not in frag and "sk-proj" not in frag
    settings, warnings = decode_fragment(f"p=a%20cat%20{KEY}")
    assert KEY not in settings["prompt"] and warnings


@pytest.mark.parametrize("name", ["api_key", "key", "authorization", "token", "apikey", "API-KEY",
                                  "access_token", "password", "Authorization", "secret", "org"])
def test_decoding_strips_credential_fields_without_echoing_them(name):
    settings, warnings = decode_fragment(f"#p=cat&{name}={KEY}&n=2")
    assert settings == {"prompt": "cat", "n": 2}
    assert len(warnings) == 1 and "never carry keys" in warnings[0]
    assert KEY not in " ".join(warnings)


def test_warnings_never_quote_a_key():
    for field in ("quality", "style", "size", "task", "model", "n", KEY, "background"):
        settings, warnings = decode_fragment(f"model=gpt-image-1&{field}={KEY}")
        assert warnings and KEY[:12] not in " ".join(warnings) + repr(settings), field


def test_decoding_ignores_places_images_and_unknown_fields():
    settings, warnings = decode_fragment("p=cat&base_url=https%3A%2F%2Fevil.example&image=AAAA&mask=x&colour=red")
    assert settings == {"prompt": "cat"}
    text = " ".join(warnings)
    assert "never set where requests go" in text and "never carry images" in text and "“colour”" in text


def test_values_checked_against_the_model_table():
    s, w = decode_fragment("p=x&model=dall-e-3&n=50&size=Small&style=vivid&quality=ultra&background=transparent")
    assert s == {"prompt": "x", "n": 10, "size": "Small", "model": "dall-e-3", "style": "vivid"}
    text = " ".join(w)
    assert "changed to 10" in text and "ultra" in text and "background" in text

    s, w = decode_fragment("p=x&model=gpt-image-1&size=5000x5000&partial_images=9&stream=yes&style=vivid")
    assert s == {"prompt": "x", "model": "gpt-image-1", "stream": True, "partial_images": 3}
    assert any("larger than gpt-image-1 can make" in m for m in w)
    assert any("no style option" in m for m in w)


def test_sizes_are_normalised():
    for given, expected in [("small", "Small"), ("LARGE", "Large"), ("512x512", "Medium"), ("768X512", "768x512"),
                            ("automatic", "Automatic"), ("1024×1536", "1024x1536")]:
        assert decode_fragment(f"size={given}")[0] == {"size": expected}
    for bad in ("huge", "0x5", "-3x4", "1e9x1", "9" * 300, "99999x99999"):
        s, w = decode_fragment(f"size={bad}")
        assert s == {} and w


def test_unknown_model_is_kept_with_a_warning_but_junk_is_not():
    s, w = decode_fragment("model=my-local-model&quality=high")
    assert s == {"model": "my-local-model", "quality": "high"} and "does not know" in w[0]
    assert decode_fragment("model=%3Cscript%3E")[0] == {}
    assert decode_fragment("model=" + KEY)[0] == {}


def test_task_and_inpaint_options():
    s, w = decode_fragment("task=inpaint&model=gpt-image-1&input_fidelity=high&paste_back=false&feather=500")
    assert s == {"model": "gpt-image-1", "task": "inpaint", "input_fidelity": "high", "paste_back": False,
                 "feather": 128}
    assert decode_fragment("task=delete-everything")[0] == {}


def test_versions_duplicates_and_missing_version():
    assert decode_fragment("p=a&p=b")[0] == {"prompt": "a"}
    s, w = decode_fragment("p=a&v=7")
    assert s == {"prompt": "a"} and "newer imagesynth" in w[0]
    assert decode_fragment("p=a")[1] == []


def test_excessive_length_refused():
    s, w = decode_fragment("p=" + "a" * (share.MAX_FRAGMENT + 1))
    assert s == {} and "not read" in w[0]
    s, w = decode_fragment("&".join(f"x{i}=1" for i in range(10_000)))
    assert s == {} and len(w) <= share.MAX_WARNINGS


def test_overlong_prompt_is_cut_with_a_warning():
    s, w = decode_fragment("p=" + "a" * (share.MAX_PROMPT + 10))
    assert len(s["prompt"]) == share.MAX_PROMPT and w
    s, w = decode_fragment("model=dall-e-3&p=" + "a" * 5000)
    assert len(s["prompt"]) == 5000 and "at most 4,000" in w[0]


def test_control_characters_and_lone_surrogates():
    s, _ = decode_fragment("p=a%00b%07c%0Ad%09e")
    assert s["prompt"] == "abc\nd\te"
    frag = encode_fragment({"prompt": "a\ud800b"})  # a JavaScript string can hold this
    assert decode_fragment(frag)[0]["prompt"] == "a\ufffdb"
    s, w = decode_fragment("p=%ff%fe")
    assert s["prompt"] == "\ufffd\ufffd" and "not valid text" in w[0]


def test_hostile_fragments_never_raise():
    rng = random.Random(7)
    alphabet = "&=#%+pnvsizemodltaskqury0123456789xX _-.:/\n\x00" + "".join(_PIECES[60:])
    names = list(share.FIELDS) + ["p", "v", "api_key", "", "%", "%zz"]
    for _ in range(3000):
        if rng.random() < 0.5:
            frag = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))
        else:
            frag = "&".join(f"{rng.choice(names)}={''.join(rng.choice(_PIECES) for _ in range(rng.randint(0, 8)))}"
                            for _ in range(rng.randint(0, 12)))
        settings, warnings = decode_fragment(frag)
        assert set(settings) <= set(share.FIELDS)
        assert all(isinstance(m, str) for m in warnings) and len(warnings) <= share.MAX_WARNINGS
        if "n" in settings:
            assert isinstance(settings["n"], int) and 1 <= settings["n"] <= 10
        if "prompt" in settings:
            assert isinstance(settings["prompt"], str)
        # whatever was decoded encodes and decodes to itself
        assert decode_fragment(encode_fragment(settings))[0] == settings


@pytest.mark.parametrize("junk", [None, 42, b"p=cat", ["p=cat"], {"p": "cat"}])
def test_non_strings_do_not_raise(junk):
    assert decode_fragment(junk) == ({}, ["This link could not be read, so the form was left as it was."])


def test_validate_settings_accepts_typed_values():
    s, w = validate_settings({"prompt": "x", "n": 2.0, "stream": 1, "size": (768, 512), "n_extra": 1,
                              "output_compression": 150, "output_format": "webp", "model": "gpt-image-1"})
    assert s == {"prompt": "x", "n": 2, "size": "768x512", "model": "gpt-image-1", "output_format": "webp",
                 "output_compression": 100, "stream": True}
    assert validate_settings("nope") == ({}, ["These settings could not be read."])


def test_share_url_edge_cases():
    assert share_url("http://[::1]:8000/#x", {"n": 2}) == "http://[::1]:8000/#n=2&v=1"
    assert share_url("http://localhost:8000", {}) == "http://localhost:8000#v=1"
    assert share.is_long("x" * 3000) and not share.is_long("x" * 100)


def test_modules_import_nothing_browser_only():
    """py/app/share, archive and restore run on CPython: a fresh interpreter imports them
    without pyscript or js (which do not exist here) and without Pillow or requests."""
    import subprocess

    code = ("import sys; sys.path.insert(0, 'py'); import app.share, app.archive, app.restore; "
            "bad = {'js', 'pyscript', 'pyodide', 'PIL', 'requests'} & set(sys.modules); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
