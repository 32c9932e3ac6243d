"""Where the key comes from: Wolfram's ``Authentication`` option, in Python.

Forms:
- ``"Automatic"``: the environment, then the system keychain, else a
  ConfigurationError that says how to supply a key;
- ``"Environment"``: ``OPENAI_API_KEY`` (+ ``OPENAI_BASE_URL``,
  ``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID``), or Azure's
  ``AZURE_OPENAI_API_KEY`` + ``AZURE_OPENAI_ENDPOINT`` (+ ``OPENAI_API_VERSION``,
  ``AZURE_OPENAI_DEPLOYMENT``);
- ``"SystemCredential"``: the keychain through ``keyring`` (service
  ``imagesynth``, user ``openai``);
- a ``ServiceConnection`` (a saved connection: provider, base URL, key, ...);
- ``{"ID": ..., "APIKey": ...}`` (ID becomes the end-user ``user`` field;
  other ``ServiceConnection`` fields may ride along as keys, any case).

The key is carried only inside ``Endpoint``/``ServiceConnection``, whose
reprs hide it, and no message here ever includes it.  ``keyring`` is imported
only when asked for, so the core still imports on Pyodide.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from .errors import ConfigurationError
from .endpoint import Endpoint

OPENAI_BASE_URL = "https://api.openai.com/v1"
KEYRING_SERVICE = "imagesynth"
KEYRING_USER = "openai"
PROVIDERS = ("openai", "azure", "compatible")

HOW_TO = (
    "set the OPENAI_API_KEY environment variable, pass --api-key (or "
    "authentication={'APIKey': ...}), or store a key in the system keychain with "
    f"`keyring set {KEYRING_SERVICE} {KEYRING_USER}`"
)


@dataclass
class ServiceConnection:
    """A saved connection.  ``to_dict`` leaves the key out unless asked, so a settings file or a
    shared link made from it carries no secret."""

    provider: str = "openai"
    base_url: str | None = None
    api_key: str = field(default="", repr=False)
    organization: str | None = None
    project: str | None = None
    api_version: str | None = None
    deployment: str | None = None
    user: str | None = None

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ConfigurationError(
                f"unknown provider {self.provider!r}; use one of {', '.join(PROVIDERS)}"
            )

    def to_dict(self, include_key: bool = False) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in (None, "")}
        if not include_key:
            d.pop("api_key", None)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ServiceConnection":
        names = {f.name for f in fields(cls)}
        unknown = [k for k in d if k not in names]
        if unknown:
            raise ConfigurationError(f"unknown service connection field(s): {', '.join(map(str, unknown))}")
        return cls(**dict(d))

    def endpoint(self) -> Endpoint:
        if not self.api_key and self.provider != "compatible":
            raise ConfigurationError(f"the {self.provider} service connection has no API key; {HOW_TO}")
        if self.provider == "azure":
            if not self.base_url:
                raise ConfigurationError(
                    "an Azure connection needs the resource endpoint (AZURE_OPENAI_ENDPOINT or --base-url), "
                    "e.g. https://NAME.openai.azure.com"
                )
            base = self.base_url
        else:
            base = self.base_url or OPENAI_BASE_URL
        return Endpoint(
            base_url=base.rstrip("/"),
            api_key=self.api_key,
            kind=self.provider,
            organization=self.organization,
            project=self.project,
            api_version=self.api_version,  # None: protocol.AZURE_API_VERSION
            deployment=self.deployment,
            user=self.user,
        )


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def from_environment(env: Mapping[str, str] | None = None) -> ServiceConnection | None:
    """The connection the environment describes, or None.  OpenAI's variables win over Azure's."""
    env = os.environ if env is None else env
    key = _clean(env.get("OPENAI_API_KEY"))
    if key:
        base = _clean(env.get("OPENAI_BASE_URL"))
        provider = "compatible" if base and not base.startswith("https://api.openai.com") else "openai"
        return ServiceConnection(
            provider=provider,
            base_url=base,
            api_key=key,
            organization=_clean(env.get("OPENAI_ORG_ID")),
            project=_clean(env.get("OPENAI_PROJECT_ID")),
        )
    key = _clean(env.get("AZURE_OPENAI_API_KEY"))
    if key:
        endpoint = _clean(env.get("AZURE_OPENAI_ENDPOINT"))
        if not endpoint:
            raise ConfigurationError(
                "AZURE_OPENAI_API_KEY is set but AZURE_OPENAI_ENDPOINT is not; set it to your resource's "
                "endpoint, e.g. https://NAME.openai.azure.com"
            )
        return ServiceConnection(
            provider="azure",
            base_url=endpoint,
            api_key=key,
            api_version=_clean(env.get("OPENAI_API_VERSION")),
            deployment=_clean(env.get("AZURE_OPENAI_DEPLOYMENT")),
        )
    return None


def from_keyring(keyring_module: Any = None) -> ServiceConnection | None:
    """The key stored in the system keychain, or None when there is none or no keyring at all."""
    if keyring_module is None:
        try:
            import keyring as keyring_module  # optional; absent on Pyodide
        except ImportError:
            return None
    try:
        key = keyring_module.get_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception as e:  # a keychain backend failing (locked, no D-Bus) is "no key there"
        raise ConfigurationError(
            f"the system keychain could not be read ({type(e).__name__}); {HOW_TO}"
        ) from None
    key = _clean(key)
    return ServiceConnection(api_key=key) if key else None


def _from_mapping(auth: Mapping[Any, Any]) -> ServiceConnection:
    aliases = {
        "id": "user", "user": "user", "apikey": "api_key", "api_key": "api_key", "key": "api_key",
        "baseurl": "base_url", "base_url": "base_url", "provider": "provider",
        "organization": "organization", "project": "project", "apiversion": "api_version",
        "api_version": "api_version", "deployment": "deployment",
    }
    values: dict[str, Any] = {}
    for k, v in auth.items():
        key = str(k).lower().replace("-", "_")
        name = aliases.get(key) or aliases.get(key.replace("_", ""))
        if name is None:
            raise ConfigurationError(f"unknown authentication key {k!r}; use \"ID\" and \"APIKey\"")
        values[name] = v
    if "api_key" not in values:
        raise ConfigurationError("the authentication has no \"APIKey\"")
    for name, v in values.items():
        if v is not None and not isinstance(v, str):
            raise ConfigurationError(f"the authentication's {name} must be a string")
    return ServiceConnection(**values)


def resolve(authentication: Any = "Automatic", *, base_url: str | None = None,
            env: Mapping[str, str] | None = None, keyring_module: Any = None) -> Endpoint:
    """An ``Authentication`` value → the Endpoint to call.  ``base_url`` overrides the
    connection's (a compatible server with the same key, or the sandbox)."""
    if isinstance(authentication, Endpoint):
        conn = None
        ep = authentication
    else:
        conn = _connection(authentication, env, keyring_module)
        if base_url:
            conn.base_url = base_url
            if conn.provider == "openai" and not base_url.startswith("https://api.openai.com"):
                conn.provider = "compatible"
        ep = conn.endpoint()
    if conn is None and base_url:
        from dataclasses import replace

        ep = replace(ep, base_url=base_url.rstrip("/"))
    return ep


def _connection(authentication: Any, env: Mapping[str, str] | None, keyring_module: Any) -> ServiceConnection:
    if authentication is None or (isinstance(authentication, str) and authentication.lower() == "automatic"):
        conn = from_environment(env) or from_keyring(keyring_module)
        if conn is None:
            raise ConfigurationError(f"no OpenAI API key found; {HOW_TO}")
        return conn
    if isinstance(authentication, str):
        kind = authentication.lower()
        if kind == "environment":
            conn = from_environment(env)
            if conn is None:
                raise ConfigurationError(
                    "Authentication \"Environment\": neither OPENAI_API_KEY nor AZURE_OPENAI_API_KEY is set"
                )
            return conn
        if kind == "systemcredential":
            conn = from_keyring(keyring_module)
            if conn is None:
                raise ConfigurationError(
                    "Authentication \"SystemCredential\": no key in the system keychain (or the keyring "
                    f"package is not installed); store one with `keyring set {KEYRING_SERVICE} {KEYRING_USER}`"
                )
            return conn
        # deliberately not echoing the value: a key pasted here by mistake must not be printed
        raise ConfigurationError(
            "unknown authentication: use \"Automatic\", \"Environment\", \"SystemCredential\", a "
            "ServiceConnection or {\"ID\": ..., \"APIKey\": ...}"
        )
    if isinstance(authentication, ServiceConnection):
        from dataclasses import replace

        return replace(authentication)
    if isinstance(authentication, Mapping):
        conn = _from_mapping(authentication)
        if conn.base_url is None and conn.provider == "openai":
            # An explicit key replaces the environment's key, not its endpoint: OPENAI_BASE_URL
            # still says where to send it, as in the openai SDK and `imagesynth --api-key`.
            base = _clean((os.environ if env is None else env).get("OPENAI_BASE_URL"))
            if base:
                conn.base_url = base
                if not base.startswith("https://api.openai.com"):
                    conn.provider = "compatible"
        return conn
    raise ConfigurationError(
        f"unknown authentication of type {type(authentication).__name__}: use \"Automatic\", "
        "\"Environment\", \"SystemCredential\", a ServiceConnection or {\"ID\": ..., \"APIKey\": ...}"
    )
