"""The ``imagesynth`` command.

    imagesynth "a Monet-like painting" -n 3 --size small -o out/
    imagesynth --image cat.png -n 3                        # variations
    imagesynth "a hat" --image cat.png [--mask mask.png]    # inpaint
    imagesynth serve ... | imagesynth build ...             # the app server, the runtime assembly

Each image is written the moment it arrives (a "done" progress event), before
the next one is waited for: if a later request fails or the user presses
Ctrl-C, what was paid for is on disk.  Files are never overwritten.  Any error
is ONE line on stderr, ``imagesynth: error: ...``, and an exit code by
category: 2 usage/input, 3 authentication/configuration, 4 refused by the
API, 5 network/server, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from . import errors
from .names import slug

EXIT_USAGE, EXIT_AUTH, EXIT_REFUSED, EXIT_NETWORK, EXIT_INTERRUPTED = 2, 3, 4, 5, 130
_EXT = {"png": "png", "jpeg": "jpg", "webp": "webp"}


class UsageError(Exception):
    """argparse's complaint, turned into our one-line error instead of its exit(2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="imagesynth", description="Generate, vary and inpaint images with OpenAI-compatible "
                "image models.  Subcommands: `imagesynth serve`, `imagesynth build`.")
    p.add_argument("prompt", nargs="?", help="what to draw (with --image: what to paint in)")
    p.add_argument("-n", type=int, default=1, help="number of images (1-10)")
    p.add_argument("--size", help="small (256), medium (512), large (1024), or WxH")
    p.add_argument("-o", "--output", default=".", help="folder for the images (default: .)")
    p.add_argument("--image", help="reference image: variations, or inpaint with a prompt")
    p.add_argument("--mask", help="mask image: white or transparent = repaint (needs --image)")
    p.add_argument("--model", help="model id (default: the newest GPT image model the endpoint lists)")
    g = p.add_argument_group("endpoint and key")
    g.add_argument("--base-url", help="endpoint base URL, e.g. http://127.0.0.1:8000/v1")
    g.add_argument("--api-key", help="API key (default: OPENAI_API_KEY, then the system keychain)")
    g.add_argument("--id", help="end-user ID sent as `user`")
    g.add_argument("--provider", choices=("openai", "azure", "compatible"))
    g.add_argument("--api-version", help="Azure api-version")
    g.add_argument("--deployment", help="Azure deployment name")
    g.add_argument("--organization", help="OpenAI organization ID")
    g.add_argument("--project", help="OpenAI project ID")
    m = p.add_argument_group("model parameters")
    m.add_argument("--quality")
    m.add_argument("--style")
    m.add_argument("--background")
    m.add_argument("--format", dest="output_format", choices=("png", "jpeg", "webp"))
    m.add_argument("--compression", dest="output_compression", type=int, help="0-100, jpeg/webp only")
    m.add_argument("--moderation", choices=("low", "auto"))
    m.add_argument("--input-fidelity", choices=("high", "low"))
    r = p.add_argument_group("behaviour")
    r.add_argument("--no-paste-back", action="store_true", help="keep the model's pixels outside the mask")
    r.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                   help="stream partial images (default: when the model can and a bar is shown)")
    r.add_argument("--partial-images", type=int, default=2, help="partial images to stream (0-3)")
    r.add_argument("--retries", type=int, default=4, help="retries on rate limits and server errors")
    r.add_argument("--concurrency", type=int, default=4, help="requests at once")
    r.add_argument("--variation-prompt", help="prompt used for variations on models without /variations")
    r.add_argument("--json", action="store_true", help="print JSON (no progress bar)")
    r.add_argument("--list-models", action="store_true", help="list the endpoint's image models and exit")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def exit_code(error: BaseException) -> int:
    if isinstance(error, (UsageError, errors.InputError)):
        return EXIT_USAGE
    if isinstance(error, (errors.ConfigurationError, errors.AuthenticationError, errors.PermissionDeniedError)):
        return EXIT_AUTH
    if isinstance(error, (errors.RateLimitError, errors.ServerError, errors.ConnectionFailed,
                          errors.TimeoutError_, errors.ResponseError)):
        return EXIT_NETWORK
    if isinstance(error, errors.APIError):
        return EXIT_REFUSED
    if isinstance(error, (KeyboardInterrupt, errors.Cancelled)):
        return EXIT_INTERRUPTED
    return 1


def write_new(folder: Path, stem: str, ext: str, data: bytes) -> Path:
    """Write to ``stem.ext``, or ``stem_2.ext``, ...: exclusive create, never overwriting a file
    (not even one that appears between the check and the write)."""
    folder.mkdir(parents=True, exist_ok=True)
    k = 1
    while True:
        path = folder / (f"{stem}.{ext}" if k == 1 else f"{stem}_{k}.{ext}")
        try:
            with open(path, "xb") as f:
                f.write(data)
            return path
        except FileExistsError:
            k += 1


def _spec(args) -> Any:
    if args.mask and not args.image:
        raise UsageError("--mask needs --image (the image the mask applies to)")
    if args.image:
        image = Path(args.image)
        if not args.prompt:
            return image
        spec = {"Text": args.prompt, "Image": image}
        if args.mask:
            spec["Mask"] = Path(args.mask)
        return spec
    if not args.prompt:
        raise UsageError("give a prompt, or --image for variations (see imagesynth --help)")
    return args.prompt


def _endpoint(args):
    from .auth import ServiceConnection, resolve

    if args.api_key is not None:
        # An explicit key replaces the environment's key, not its endpoint: OPENAI_BASE_URL still
        # says where to send it (as the openai SDK does).
        base_url = args.base_url or os.environ.get("OPENAI_BASE_URL") or None
        provider = args.provider or ("openai" if not base_url or base_url.startswith(
            "https://api.openai.com") else "compatible")
        auth: Any = ServiceConnection(provider=provider, base_url=base_url, api_key=args.api_key,
                                      organization=args.organization, project=args.project,
                                      api_version=args.api_version, deployment=args.deployment)
    else:
        auth = "Automatic"
    ep = resolve(auth, base_url=args.base_url)
    changes = {k: v for k, v in dict(kind=args.provider, api_version=args.api_version,
                                     deployment=args.deployment, organization=args.organization,
                                     project=args.project, user=args.id).items() if v is not None}
    return replace(ep, **changes) if changes else ep


def _options(args):
    from .orchestrate import Options, VARIATION_PROMPT

    params = {k: getattr(args, k) for k in ("quality", "style", "background", "output_format",
                                            "output_compression", "moderation", "input_fidelity")
              if getattr(args, k) is not None}
    return Options(n=args.n, image_size=args.size, model=args.model, params=params, stream=args.stream,
                   partial_images=args.partial_images, paste_back=not args.no_paste_back,
                   max_retries=max(0, args.retries), concurrency=max(1, args.concurrency),
                   variation_prompt=args.variation_prompt or VARIATION_PROMPT)


def _dispatch_subcommand(argv: list[str]) -> int | None:
    if not argv or argv[0] not in ("serve", "build"):
        return None
    name = argv[0]
    try:
        import importlib

        module = importlib.import_module(f"imagesynth.{'server' if name == 'serve' else 'build'}.cli")
    except ImportError as e:
        missing = e.name or str(e)
        if missing.startswith("imagesynth"):
            print(f"imagesynth: error: `imagesynth {name}` is not part of this installation", file=sys.stderr)
        else:
            print(f"imagesynth: error: `imagesynth {name}` needs extra packages (missing: {missing}); "
                  "install them with: pip install 'imagesynth[serve]'", file=sys.stderr)
        return EXIT_AUTH
    return int(module.main(argv[1:]) or 0)


def main(argv: Sequence[str] | None = None, *, transport=None, imaging=None) -> int:
    """Run the command; returns the exit code.  ``transport``/``imaging`` are for tests."""
    argv = list(sys.argv[1:] if argv is None else argv)
    code = _dispatch_subcommand(argv)
    if code is not None:
        return code
    parser = build_parser()
    written: list[dict] = []
    args = None
    try:
        args = parser.parse_args(argv)
        return asyncio.run(_run(args, written, transport, imaging))
    except SystemExit as e:  # --help, --version
        return e.code if isinstance(e.code, int) else 0
    except KeyboardInterrupt:
        _fail(args, written, "interrupted", None)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `imagesynth ... | head`: the reader left; the files are written
        _silence_stdout()
        return 0
    except (UsageError, errors.ImageSynthError) as e:
        _fail(args, written, str(e), e)
        return exit_code(e)
    except Exception as e:  # a bug: still one line, never a traceback with local state
        _fail(args, written, f"unexpected {type(e).__name__}: {e}", e)
        return 1


def _fail(args, written: list[dict], message: str, error: BaseException | None) -> None:
    try:
        _report_failure(args, written, message, error)
    except BrokenPipeError:
        _silence_stdout()


def _silence_stdout() -> None:
    """After the reader of our stdout left: point it at /dev/null, so the flush at exit does not
    raise a second BrokenPipeError (the recipe in Python's signal module docs)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _report_failure(args, written: list[dict], message: str, error: BaseException | None) -> None:
    written.sort(key=lambda w: w["index"])
    if args is not None and getattr(args, "json", False):
        err = error.to_dict() if isinstance(error, errors.ImageSynthError) else {"message": message}
        print(json.dumps({"images": written, "error": err}, indent=2, ensure_ascii=False))
    elif written:
        for w in written:
            print(w["path"])
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    failed = getattr(error, "failed_indices", None) or []
    if written and failed:
        # some of the n images arrived (paid for, saved, listed above): say so on the same line
        total = len(written) + len(failed)
        first = (f"{len(failed)} of {total} images failed ({len(written)} saved): {first}")
    elif written:
        first = f"{first} ({len(written)} image{'s' if len(written) != 1 else ''} saved before this)"
    print(f"imagesynth: error: {first}", file=sys.stderr)


async def _run(args, written: list[dict], transport, imaging) -> int:
    from .api import available_image_models
    from .orchestrate import list_models, synthesize

    if args.list_models:
        endpoint = _endpoint(args)
        transport = transport or _default_transport()
        return await _list(args, endpoint, transport, list_models)
    spec = _spec(args)
    options = _options(args)
    endpoint = _endpoint(args)
    transport = transport or _default_transport()
    if imaging is None:
        from .imaging import default_imaging

        imaging = default_imaging()
    show_bar = not (args.json or args.quiet) and sys.stderr.isatty()
    if options.stream is None and not show_bar:
        # partial images are only worth their extra requests (one per image) when someone watches
        options.stream = False
    out = Path(args.output)
    stem = slug(args.prompt) if args.prompt else slug(Path(args.image).stem, "image") + "-variation"
    ext = _EXT.get(options.params.get("output_format") or "png", "png")

    bar = None
    if show_bar:
        from .progressbar import ProgressBar

        bar = ProgressBar(options.n)

    def on_progress(ev) -> None:
        if ev.stage == "done":
            img = ev.image
            path = write_new(out, f"{stem}-{img.index + 1}", ext, img.data)
            written.append({"path": str(path), "index": img.index, "width": img.width, "height": img.height,
                            "params": img.params})
            for message in (img.params or {}).get("warnings", []):  # one image's own (paste-back)
                on_warning(message)
        if bar is not None:
            bar(ev)

    warned: set[str] = set()

    def on_warning(message: str) -> None:
        # shown with --json and --quiet too: the inputs were changed, the user must know; once
        # (the inputs' warnings are in every image's parameters as well)
        if message in warned:
            return
        warned.add(message)
        line = f"imagesynth: warning: {' '.join(message.split())}"
        if bar is not None:
            bar.write(line)
        else:
            print(line, file=sys.stderr)

    try:
        available = None if options.model else await available_image_models(endpoint, transport)
        await synthesize(spec, endpoint, options=options, transport=transport, imaging=imaging,
                         progress=on_progress, available_models=available, on_warning=on_warning)
    finally:
        if bar is not None:
            bar.close()
    written.sort(key=lambda w: w["index"])
    if args.json:
        print(json.dumps({"images": written}, indent=2, ensure_ascii=False))
    else:
        for w in written:
            print(w["path"])
    return 0


async def _list(args, endpoint, transport, list_models) -> int:
    from .models import MODELS, image_models

    listed = await list_models(endpoint, transport)
    ids = image_models(listed)
    if args.json:
        print(json.dumps({"listed": bool(listed), "models": ids or list(MODELS)}, indent=2))
    elif not listed:
        print("(the endpoint offers no model list; the models this library knows:)", file=sys.stderr)
        for mid in MODELS:
            print(mid)
    else:
        for mid in ids:
            print(mid)
    return 0


def _default_transport():
    from .transports.cpython import RequestsTransport

    return RequestsTransport()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
