"""``imagesynth build DIR``: write the static site (app + core + offline runtime)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .assemble import BuildError, build_site, default_cache  # noqa: F401  (re-exported)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="imagesynth build",
        description="Write a complete static site (the app, the imagesynth core and the "
        "PyScript/Pyodide runtime) into DIR. Any static file server can serve it.",
    )
    p.add_argument("dir", nargs="?", default="site", help="output folder (default: site)")
    p.add_argument("--app-root", type=Path, default=None,
                   help="folder holding index.html, pyscript.json, static/, py/app/ (default: the repo)")
    p.add_argument("--cache", type=Path, default=None,
                   help="download cache (default: .cache/runtime in the repo, or $IMAGESYNTH_RUNTIME_CACHE)")
    p.add_argument("--pyodide-dist", default=os.environ.get("IMAGESYNTH_PYODIDE_DIST"),
                   metavar="URL|DIR",
                   help="a Pyodide 314 distribution (folder or URL with pyodide-lock.json) to take "
                   "Pillow from (default: $IMAGESYNTH_PYODIDE_DIST)")
    p.add_argument("--micropython", action="store_true",
                   help="also serve MicroPython in pyscript/micropython/ (off by default)")
    p.add_argument("--refresh", action="store_true",
                   help="ask PyPI again for a Pillow wheel even if asked recently")
    p.add_argument("-q", "--quiet", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["build"]:
        argv = argv[1:]
    args = _parser().parse_args(argv)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    try:
        build_site(
            Path(args.dir),
            app_root=args.app_root,
            cache=args.cache,
            pyodide_dist=args.pyodide_dist,
            log=log,
            micropython=args.micropython,
            refresh=args.refresh,
        )
    except BuildError as e:
        print(f"imagesynth build: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
