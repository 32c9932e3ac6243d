"""Build the static site: the browser app, the core for the page, the offline runtime (CPython only)."""

from .assemble import BuildError, build_site

__all__ = ["BuildError", "build_site"]
