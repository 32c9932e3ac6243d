"""Assemble the ASGI app: the sandbox at ``/v1`` (unless disabled), the static app at ``/``."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount

from .csp import content_security_policy
from .sandbox import Sandbox, SandboxConfig, create_sandbox_app
from .static import StaticSite


def default_site_dir() -> Path | None:
    """``./site`` when it exists (what ``imagesynth build site`` makes), else None."""
    site = Path("site")
    return site if site.is_dir() else None


def create_app(site_dir: Path | None, sandbox: bool = True, sandbox_key: str = "sk-sandbox",
               base_url_for_images: str | None = None, *, retry_after: float = 1.0,
               max_body: int = 60 * 1024 * 1024, stream_delay: float = 0.05, timeout_cap: float = 600.0,
               extra_connect: tuple[str, ...] = ()) -> Starlette:
    """The whole server as one ASGI app.

    ``site_dir``: the built browser app (None or missing: a page saying how to
    build it).  ``base_url_for_images``: the origin put in ``response_format=url``
    URLs (default: the request's own Host).  ``app.state.sandbox`` (None with
    ``sandbox=False``) holds the fault counters and URL store for tests.
    """
    routes = []
    state = None
    if sandbox:
        state = Sandbox(SandboxConfig(key=sandbox_key, retry_after=retry_after, max_body=max_body,
                                      stream_delay=stream_delay, timeout_cap=timeout_cap,
                                      base_url_for_images=base_url_for_images))
        routes.append(Mount("/v1", app=create_sandbox_app(state)))
    routes.append(Mount("/", app=StaticSite(Path(site_dir) if site_dir else None,
                                            content_security_policy(extra_connect))))
    app = Starlette(routes=routes)
    app.state.sandbox = state
    return app
