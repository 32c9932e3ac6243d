"""Where requests go and how they are signed, apart from the protocol that builds them.

Its own module so that code which only describes a connection (the page's saved
settings, which it loads before its controls come alive) need not import the
protocol, its validation and its error mapping to do so.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Endpoint:
    """Where requests go and how they are signed.  ``repr`` never shows the key."""

    base_url: str = "https://api.openai.com/v1"
    api_key: str = field(default="", repr=False)
    kind: str = "openai"  # "openai" | "azure" | "compatible"
    organization: str | None = None
    project: str | None = None
    api_version: str | None = None  # Azure
    deployment: str | None = None  # Azure: the deployment name replaces the model in the URL
    user: str | None = None  # end-user ID, sent as `user`
