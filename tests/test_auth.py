"""Authentication forms → Endpoint, and the key never shown."""

import json
import sys
import types

import pytest

from imagesynth.auth import ServiceConnection, resolve
from imagesynth.errors import ConfigurationError

KEY = "sk-test-SECRET-0123456789"
CLEAN_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "AZURE_OPENAI_API_KEY",
             "AZURE_OPENAI_ENDPOINT", "OPENAI_API_VERSION", "AZURE_OPENAI_DEPLOYMENT")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for k in CLEAN_ENV:
        monkeypatch.delenv(k, raising=False)
    # no real keychain in tests: a fake module that holds nothing unless a test says so
    fake = FakeKeyring()
    monkeypatch.setitem(sys.modules, "keyring", fake)
    return fake


class FakeKeyring(types.ModuleType):
    def __init__(self, password=None, fail=False):
        super().__init__("keyring")
        self.password = password
        self.fail = fail
        self.asked = []

    def get_password(self, service, user):
        self.asked.append((service, user))
        if self.fail:
            raise RuntimeError(f"locked keychain {KEY}")
        return self.password


def test_automatic_uses_env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-1")
    ep = resolve("Automatic")
    assert (ep.api_key, ep.kind, ep.base_url, ep.organization, ep.project) == (
        KEY, "openai", "https://api.openai.com/v1", "org-1", "proj-1")


def test_env_base_url_makes_a_compatible_endpoint(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1/")
    ep = resolve()
    assert ep.base_url == "http://127.0.0.1:8000/v1" and ep.kind == "compatible"


def test_automatic_falls_back_to_keyring(clean_env):
    clean_env.password = KEY
    ep = resolve("Automatic")
    assert ep.api_key == KEY and clean_env.asked == [("imagesynth", "openai")]


def test_automatic_without_anything_says_how(monkeypatch):
    monkeypatch.setitem(sys.modules, "keyring", None)  # not installed
    with pytest.raises(ConfigurationError) as e:
        resolve("Automatic")
    msg = str(e.value)
    assert "OPENAI_API_KEY" in msg and "--api-key" in msg and "keyring" in msg


def test_environment_does_not_look_at_keyring(clean_env):
    clean_env.password = KEY
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        resolve("Environment")
    assert clean_env.asked == []


def test_system_credential_only_keyring(monkeypatch, clean_env):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    clean_env.password = KEY
    assert resolve("SystemCredential").api_key == KEY
    clean_env.password = None
    with pytest.raises(ConfigurationError, match="keyring set imagesynth openai"):
        resolve("SystemCredential")


def test_broken_keychain_is_a_configuration_error_without_secret(clean_env):
    clean_env.fail = True
    with pytest.raises(ConfigurationError) as e:
        resolve("SystemCredential")
    assert KEY not in str(e.value) and e.value.__cause__ is None


def test_azure_env(monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com/")
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENT", "img")
    ep = resolve("Environment")
    assert (ep.kind, ep.base_url, ep.api_version, ep.deployment, ep.api_key) == (
        "azure", "https://res.openai.azure.com", "2025-04-01-preview", "img", KEY)


def test_azure_key_without_endpoint(monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    with pytest.raises(ConfigurationError, match="AZURE_OPENAI_ENDPOINT"):
        resolve()


def test_explicit_id_and_key():
    ep = resolve({"ID": "user-42", "APIKey": KEY})
    assert ep.api_key == KEY and ep.user == "user-42" and ep.kind == "openai"


def test_explicit_dict_with_more_fields_any_case():
    ep = resolve({"apikey": KEY, "BaseURL": "http://localhost:9/v1", "Provider": "compatible"})
    assert ep.base_url == "http://localhost:9/v1" and ep.kind == "compatible"


@pytest.mark.parametrize("bad, words", [
    ({"ID": "u"}, "no \"APIKey\""),
    ({"APIKey": KEY, "Colour": "red"}, "unknown authentication key"),
    ({"APIKey": 12}, "must be a string"),
    ("Something", "unknown authentication"),
    (KEY, "unknown authentication"),
    (42, "unknown authentication of type int"),
    ({"APIKey": KEY, "Provider": "acme"}, "unknown provider"),
])
def test_bad_authentication(bad, words):
    with pytest.raises(ConfigurationError) as e:
        resolve(bad)
    assert words in str(e.value) and KEY not in str(e.value)


def test_service_connection_and_base_url_override():
    conn = ServiceConnection(provider="openai", api_key=KEY, organization="org")
    ep = resolve(conn, base_url="http://127.0.0.1:5/v1")
    assert ep.base_url == "http://127.0.0.1:5/v1" and ep.kind == "compatible" and ep.api_key == KEY
    assert conn.base_url is None  # the caller's object is not changed


def test_azure_connection_needs_endpoint():
    with pytest.raises(ConfigurationError, match="resource endpoint"):
        resolve(ServiceConnection(provider="azure", api_key=KEY))


def test_service_connection_saves_without_key_unless_asked():
    conn = ServiceConnection(provider="azure", base_url="https://r.openai.azure.com", api_key=KEY,
                             api_version="v", deployment="d")
    saved = json.dumps(conn.to_dict())
    assert KEY not in saved
    back = ServiceConnection.from_dict(json.loads(saved))
    assert back.api_key == "" and back.deployment == "d" and back.provider == "azure"
    assert ServiceConnection.from_dict(conn.to_dict(include_key=True)).api_key == KEY
    with pytest.raises(ConfigurationError):
        ServiceConnection.from_dict({"nonsense": 1})


def test_key_never_in_repr_or_str(monkeypatch):
    conn = ServiceConnection(api_key=KEY)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    ep = resolve()
    for text in (repr(conn), str(conn), repr(ep), str(ep)):
        assert KEY not in text


def test_connection_without_key_is_an_error_but_compatible_may_have_none():
    with pytest.raises(ConfigurationError, match="no API key"):
        resolve(ServiceConnection(provider="openai"))
    assert resolve(ServiceConnection(provider="compatible", base_url="http://x/v1")).api_key == ""


def test_explicit_key_goes_where_openai_base_url_says():
    # as the openai SDK and `imagesynth --api-key`: an explicit key replaces the key, not the endpoint
    ep = resolve({"ID": "u", "APIKey": KEY}, env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert (ep.base_url, ep.kind, ep.user) == ("http://127.0.0.1:9/v1", "compatible", "u")
    ep = resolve({"APIKey": KEY, "BaseURL": "http://other:1/v1"}, env={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert ep.base_url == "http://other:1/v1"
    ep = resolve({"APIKey": KEY}, env={})
    assert ep.base_url == "https://api.openai.com/v1" and ep.kind == "openai"
