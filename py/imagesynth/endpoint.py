"""Where requests go and how they are signed, apart from the protocol that builds them.

Its own module so that code which only describes a connection (the page's saved
settings, which it loads before its controls come alive) need not import the
protocol, its validation and its error mapping to do so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Azure's API version when the endpoint names none: the first with GPT image
#: edits and streaming.  Here, not in ``protocol``, so that the page's settings can
#: offer it as the default without importing the protocol at start.
AZURE_API_VERSION = "2025-04-01-preview"


@dataclass
class Endpoint:
    """Where requests go and how they are signed.  ``repr`` never shows the key."""

    base_url: str = "https://api.openai.com/v1"
    api_key: str = field(default="", repr=False)
    kind: str = "openai"  # "openai" | "azure" | "compatible"
    organization: str | None = None
    project: str | None = None
    api_version: str | None = None  # Azure; None: AZURE_API_VERSION
    deployment: str | None = None  # Azure: the deployment name replaces the model in the URL
    user: str | None = None  # end-user ID, sent as `user`
