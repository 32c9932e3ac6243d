"""Build the static site: the browser app, the core for the page, the offline runtime (CPython only).

``build_site`` and ``BuildError`` are loaded on first use: the server imports
``build.versions`` for the build's naming rule and should not load the whole
builder (~18 ms) to get it.
"""

__all__ = ["BuildError", "build_site"]


def __getattr__(name: str):
    if name in __all__:
        from . import assemble

        return getattr(assemble, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
