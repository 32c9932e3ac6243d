"""`imagesynth serve`: the browser app's static server and an offline sandbox
images endpoint that speaks the OpenAI Images protocol.

CPython only (Starlette + uvicorn + python-multipart, the ``serve`` extra).
Nothing is imported eagerly so that ``imagesynth.server.csp`` stays usable by
the build step without the ASGI stack.
"""

from __future__ import annotations

__all__ = ["create_app", "content_security_policy"]


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "content_security_policy":
        from .csp import content_security_policy

        return content_security_policy
    raise AttributeError(name)
