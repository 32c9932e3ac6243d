"""What the running app knows: one instance, shared by the views."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .settings import Connection


@dataclass
class AppState:
    """The page's shared state: what boot found (transport, imaging, runtime) and the connection in use."""
    transport: Any = None
    imaging: Any = None
    runtime: dict = field(default_factory=dict)
    #: absolute URL of this server's sandbox endpoint ("" when there is none)
    sandbox_url: str = ""
    connection: Connection | None = None
    #: True once the connection is in use (models listed or accepted)
    connected: bool = False
    #: ids GET /models returned (None: the endpoint lists none, e.g. Azure)
    models: list[str] | None = None
    ready: bool = False

    def endpoint(self):
        return self.connection.endpoint(self.sandbox_url) if self.connection else None


app = AppState()
