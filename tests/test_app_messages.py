"""The page's error wording (py/app/messages.py) and connection rules (py/app/settings.py),
on CPython: every core error gets a title a person understands, never a traceback or a key."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "py"))

from app.messages import describe, retrying, title_for  # noqa: E402
from app.settings import Connection  # noqa: E402
from imagesynth import errors as E  # noqa: E402

ALL_ERRORS = [c for _, c in inspect.getmembers(E, inspect.isclass)
              if issubclass(c, E.ImageSynthError)]


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_every_core_error_has_a_title(cls):
    exc = cls("Plain sentence from the core.")
    msg = describe(exc)
    assert msg.title and msg.title != "Something went wrong in the app"
    assert "Plain sentence from the core." in msg.text


@pytest.mark.parametrize("cls,title", [
    (E.QuotaExceededError, "Out of credits"),
    (E.ModerationError, "Refused by the safety system"),
    (E.AuthenticationError, "Key refused"),
    (E.RateLimitError, "Rate limited"),
    (E.ConnectionFailed, "Can't reach the endpoint"),
    (E.PermissionDeniedError, "Not allowed for this model"),
])
def test_titles(cls, title):
    assert title_for(cls("x")) == title


def test_unknown_exception_is_plain():
    msg = describe(KeyError("secret internals"))
    assert "secret internals" not in msg.text
    assert "Traceback" not in msg.text


def test_retry_titles():
    assert retrying(E.RateLimitError("slow down"), "rate limited, retrying in 2 s").title == "Rate limited — retrying"
    assert retrying(E.ServerError("boom"), "").title.startswith("The service failed")


def test_auth_hint_only_where_useful():
    exc = E.AuthenticationError("The API key was refused.")
    assert "Connection" in describe(exc).text
    assert "Connection" not in describe(exc, hints=False).text


def test_connection_rules_and_no_key_in_public_dict():
    c = Connection(kind="compatible", base_url="", api_key="")
    assert len(c.problems()) == 2
    c = Connection(kind="compatible", base_url="ftp://x", api_key="sk-1")
    assert any("https://" in p for p in c.problems())
    c = Connection(kind="azure", base_url="https://r.openai.azure.com", deployment="gpt-image-1", api_key="k")
    assert c.problems() == []
    ep = c.endpoint()
    assert ep.kind == "azure" and ep.deployment == "gpt-image-1" and ep.api_version
    assert "api_key" not in Connection(api_key="sk-secret").public_dict()
    assert "sk-secret" not in repr(Connection(api_key="sk-secret"))
    sandbox = Connection(kind="sandbox").endpoint("http://127.0.0.1:8000/v1")
    assert sandbox.api_key == "sk-sandbox" and sandbox.kind == "compatible"


def test_saved_settings_load_without_the_protocol():
    """The page loads its saved connection before its controls come alive; the protocol
    (request building, validation, error mapping) waits until after (~25 ms of a cold start).
    A fresh interpreter, so that other tests' imports do not count."""
    import subprocess  # noqa: PLC0415

    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[1] / 'py')!r})\n"
            "import app.settings, app.state, app.messages\n"
            "print(sorted(m for m in sys.modules if m.startswith('imagesynth.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "imagesynth.protocol" not in out.stdout and "imagesynth.endpoint" in out.stdout, out.stdout
