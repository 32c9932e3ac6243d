"""Where images come from, and where the key is kept.

The connection (kind, addresses, how to keep the key) is saved in
localStorage without the key.  The key itself is kept as the user chose:
"tab" — in this Python process's memory only (gone on reload); "device" —
in localStorage under its own name.  ``forget_key`` removes it from both.
The sandbox's key is public (``sk-sandbox``) and never stored.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace

from imagesynth.endpoint import AZURE_API_VERSION, Endpoint

CONNECTION_KEY = "imagesynth.connection"
KEY_KEY = "imagesynth.key"
SANDBOX_KEY = "sk-sandbox"
OPENAI_BASE = "https://api.openai.com/v1"
KINDS = ("sandbox", "openai", "azure", "compatible")

_tab_key: str = ""  # "this tab only": memory, never storage


@dataclass
class Connection:
    """Where images come from, as the user set it up; the key stays out of repr (logs, errors)."""
    kind: str = "openai"  # sandbox | openai | azure | compatible
    base_url: str = ""
    deployment: str = ""
    api_version: str = AZURE_API_VERSION
    organization: str = ""
    storage: str = "tab"  # tab | device
    api_key: str = field(default="", repr=False)

    def needs_key(self) -> bool:
        return self.kind != "sandbox"

    def label(self) -> str:
        return {
            "sandbox": "Sandbox",
            "openai": "OpenAI",
            "azure": "Azure OpenAI",
            "compatible": "OpenAI-compatible",
        }.get(self.kind, self.kind)

    def host(self) -> str:
        from urllib.parse import urlsplit

        if self.kind == "openai":
            return "api.openai.com"
        return urlsplit(self.base_url).netloc or self.base_url

    def endpoint(self, sandbox_url: str = "") -> Endpoint:
        if self.kind == "sandbox":
            return Endpoint(base_url=sandbox_url or self.base_url, api_key=SANDBOX_KEY, kind="compatible")
        if self.kind == "openai":
            return Endpoint(base_url=OPENAI_BASE, api_key=self.api_key, kind="openai",
                            organization=self.organization or None)
        if self.kind == "azure":
            return Endpoint(base_url=self.base_url.rstrip("/"), api_key=self.api_key, kind="azure",
                            api_version=self.api_version or AZURE_API_VERSION,
                            deployment=self.deployment or None)
        return Endpoint(base_url=self.base_url.rstrip("/"), api_key=self.api_key, kind="compatible")

    def problems(self) -> list[str]:
        """What is missing before this connection can be used, in plain words."""
        out = []
        if self.kind in ("azure", "compatible"):
            url = self.base_url.strip()
            if not url:
                out.append("Enter the endpoint's address." if self.kind == "azure" else "Enter the base URL.")
            elif not (url.startswith("https://") or url.startswith("http://")):
                out.append("The address must start with https:// (or http:// for a local server).")
        if self.kind == "azure" and not self.deployment.strip():
            out.append("Enter the deployment name.")
        if self.needs_key() and not self.api_key.strip():
            out.append("Paste your API key.")
        return out

    def public_dict(self) -> dict:
        d = asdict(self)
        d.pop("api_key")
        return d


def _storage():
    from js import window

    return window.localStorage


def load() -> Connection | None:
    """The saved connection, with its key where the user chose to keep one."""
    global _tab_key
    try:
        raw = _storage().getItem(CONNECTION_KEY)
    except Exception:
        return None
    if not raw:
        return None
    try:
        data = json.loads(raw)
        conn = Connection(**{k: v for k, v in data.items() if k in Connection.__dataclass_fields__ and k != "api_key"})
    except (ValueError, TypeError):
        return None
    if conn.kind not in KINDS:
        return None
    if conn.storage == "device":
        conn.api_key = _storage().getItem(KEY_KEY) or ""
    else:
        conn.api_key = _tab_key
    return conn


def save(conn: Connection) -> None:
    """Save the connection; the key only where the user chose."""
    global _tab_key
    store = _storage()
    store.setItem(CONNECTION_KEY, json.dumps(conn.public_dict()))
    if conn.kind == "sandbox":
        return
    if conn.storage == "device" and conn.api_key:
        store.setItem(KEY_KEY, conn.api_key)
        _tab_key = ""
    else:
        store.removeItem(KEY_KEY)
        _tab_key = conn.api_key


def forget_key(conn: Connection | None = None) -> Connection | None:
    """Remove the key everywhere (memory and this device)."""
    global _tab_key
    _tab_key = ""
    try:
        _storage().removeItem(KEY_KEY)
    except Exception:
        pass
    return replace(conn, api_key="") if conn else None
