"""Export the history as a ZIP, and import such a ZIP back.

Why a ZIP of plain image files plus ``index.json``: the export is useful without
imagesynth (any file manager shows the images, the PNGs carry their prompt in
the standard ``Description`` field), and it is complete with it (the index holds
what a PNG cannot: favourites, and the parameters of JPEG/WebP results).

Import treats the file as hostile, because it is a file from anywhere: the ZIP
is never extracted to disk, only read member by member with caps on the number
of members, on each member's size and on the total unpacked size (zip bombs);
names that point outside the archive are refused; members that are not PNG,
JPEG or WebP images, or that are cut short, are skipped; the index is optional
(missing or damaged, the parameters are read from each PNG instead).  Images
are recognised by the SHA-256 of their bytes, so importing the same export
twice, or into the browser it came from, adds nothing.  Each problem becomes
one plain sentence in ``ImportResult.errors``; nothing raises.

Pixels are never decoded here (the browser may have no Pillow): sizes come from
the image headers (``imagesynth.imaging.sniff``).

Entries, on the way out and on the way in, are dicts::

    {"id", "created" (ms since the epoch, as store.Record), "prompt", "params" (dict),
     "favourite" (bool), "png_bytes" (the image's bytes, PNG or not), "mime"}

Imported entries have no ``id`` (the page's store assigns one) and carry
``sha256``, ``width``, ``height`` and ``file`` (the member's name) as well.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from imagesynth.errors import ImageInputError
from imagesynth.names import slug
from imagesynth.imaging.sniff import image_size, looks_complete, sniff_format
from imagesynth.pngmeta import read_params, scrub

INDEX_NAME = "index.json"
INDEX_VERSION = 1
APP = "imagesynth"
_EXT = {"png": "png", "jpeg": "jpg", "webp": "webp"}
_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_NICE = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP"}
#: members an OS or archiver adds on its own: skipped without a word
_NOISE = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$|\._)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_PARAMS_JSON = 256 * 1024  # one image's parameters: a prompt and a few options, never this big


@dataclass(frozen=True)
class ImportLimits:
    """Caps for an untrusted archive.  The browser's Python has a few GB of memory at best, and
    the ZIP and everything taken from it are held in memory at once."""

    max_zip_bytes: int = 512 * 1024 * 1024
    max_total: int = 512 * 1024 * 1024  # bytes unpacked, all members together
    max_member: int = 64 * 1024 * 1024  # bytes unpacked, one image
    max_entries: int = 10_000
    max_index: int = 16 * 1024 * 1024
    max_pixels: int = 64_000_000  # the largest model output is 8.3 megapixels


@dataclass
class ImportResult:
    """What an archive import added and what it kept out, so the page can say both at once."""
    new_entries: list[dict] = field(default_factory=list)
    #: names of members already in the history (or twice in this archive)
    duplicates: list[str] = field(default_factory=list)
    #: one plain sentence per member or problem that kept something out
    errors: list[str] = field(default_factory=list)
    #: things worth knowing that kept nothing out (e.g. an unreadable index)
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One sentence for the page's status line."""
        n, d, e = len(self.new_entries), len(self.duplicates), len(self.errors)
        parts = [f"Imported {n} image{'s' if n != 1 else ''}"]
        if d:
            parts.append(f"{d} {'was' if d == 1 else 'were'} already in your history")
        if e:
            parts.append(f"{e} problem{'s' if e != 1 else ''}")
        return "; ".join(parts) + "."


def image_hash(data: bytes) -> str:
    """The identity of an image for duplicate detection: SHA-256 of its bytes, hex.  The page
    should compute the hashes it passes as ``existing_hashes`` with this same function."""
    return hashlib.sha256(bytes(data)).hexdigest()


# ------------------------------------------------------------------------------------- export
def export_zip(entries: Iterable[dict], *, exported: float | None = None) -> bytes:
    """A ZIP of the entries' images plus ``index.json``.

    The image bytes are written unchanged (PNGs already carry their parameters), so their
    SHA-256 in the index matches what the history holds and a re-import finds them as
    duplicates.  Images are stored, not deflated: PNG/JPEG/WebP do not shrink, and the
    browser's Python is slow at deflating megabytes for nothing."""
    buf = io.BytesIO()
    used: set[str] = set()
    index_entries = []
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for k, entry in enumerate(entries):
            data = entry.get("png_bytes")
            if not isinstance(data, (bytes, bytearray, memoryview)) or not len(data):
                raise ValueError(f"History entry {entry.get('id', k)!r} has no image bytes to export.")
            data = bytes(data)
            fmt = sniff_format(data)
            ext = _EXT.get(fmt or "", "bin")
            params = scrub(entry.get("params") or {})
            prompt = entry.get("prompt")
            if not isinstance(prompt, str):
                prompt = params.get("prompt") if isinstance(params.get("prompt"), str) else ""
            when = _to_datetime(entry.get("created")) or _to_datetime(params.get("created")) \
                or datetime.now(timezone.utc)
            sha = image_hash(data)
            name = _unique(f"{when:%Y%m%d-%H%M%S}-{slug(prompt)}-{sha[:8]}", ext, used)
            info = zipfile.ZipInfo(name, date_time=_zip_time(when))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
            index_entries.append({
                "file": name,
                "sha256": sha,
                "mime": _MIME.get(fmt or "", str(entry.get("mime") or "application/octet-stream")),
                "created": _iso(when),
                "favourite": bool(entry.get("favourite")),
                "prompt": prompt,
                "params": params,
            })
        now = datetime.fromtimestamp(exported if exported is not None else time.time(), timezone.utc)
        index = {"app": APP, "version": INDEX_VERSION, "app_version": _app_version(),
                 "exported": _iso(now), "entries": index_entries}
        info = zipfile.ZipInfo(INDEX_NAME, date_time=_zip_time(now))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        zf.writestr(info, json.dumps(index, ensure_ascii=False, indent=1, sort_keys=False))
    return buf.getvalue()


def _unique(stem: str, ext: str, used: set[str]) -> str:
    name, k = f"{stem}.{ext}", 2
    while name in used:
        name, k = f"{stem}-{k}.{ext}", k + 1
    used.add(name)
    return name


def _app_version() -> str:
    try:
        from imagesynth import __version__

        return str(__version__)
    except ImportError:
        return ""


# ------------------------------------------------------------------------------------- import
def import_zip(data: bytes, existing_hashes: Iterable[str] = (), *,
               limits: ImportLimits = ImportLimits()) -> ImportResult:
    """The archive's images that are not in the history yet, with their parameters.

    Never raises for bad input: a file that is no ZIP, a hostile ZIP or a damaged member
    becomes a sentence in ``errors``; what could be read is still returned."""
    result = ImportResult()
    try:
        _import(data, set(existing_hashes or ()), limits, result)
    except Exception:  # a bug here must not lose what was already read
        result.errors.append("Something went wrong while reading the archive; the images listed as "
                             "imported were read, the rest were not.")
    return result


def _import(data: Any, existing: set[str], limits: ImportLimits, result: ImportResult) -> None:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        result.errors.append("This is not a file, so nothing was imported.")
        return
    data = bytes(data)
    if len(data) > limits.max_zip_bytes:
        result.errors.append(f"This file is {_mb(len(data))}; imagesynth imports archives of up to "
                             f"{_mb(limits.max_zip_bytes)}. Export a smaller selection and import it in parts.")
        return
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError,
            RuntimeError, UnicodeDecodeError, KeyError):
        result.errors.append("This file is not a ZIP archive, or it is damaged, so nothing was imported.")
        return
    if len(infos) > limits.max_entries:
        result.errors.append(f"This ZIP holds {len(infos):,} files, more than the {limits.max_entries:,} "
                             "an import takes, so nothing was imported.")
        return

    budget = [limits.max_total]
    index, base = _read_index(zf, infos, limits, result, budget)
    seen: set[str] = set()
    listed = set(index)
    images = 0
    for pos, info in enumerate(infos):
        name = info.filename
        if info.is_dir() or _NOISE.search(name) or (name == base + INDEX_NAME):
            continue
        shown = _show(name)
        if not _safe_name(name):
            result.errors.append(f"Skipped “{shown}”: its name points outside the archive.")
            continue
        if info.flag_bits & 0x1:
            result.errors.append(f"Skipped “{shown}”: it is encrypted.")
            continue
        if info.file_size > limits.max_member:
            result.errors.append(f"Skipped “{shown}”: it would unpack to {_mb(info.file_size)}, more than "
                                 "any image imagesynth makes.")
            continue
        if info.file_size > budget[0]:
            rest = sum(1 for i in infos[pos:] if not i.is_dir())
            result.errors.append(f"Stopped: the archive unpacks to more than {_mb(limits.max_total)}, so the "
                                 f"last {rest} file{'s' if rest != 1 else ''} were not imported. Export a smaller "
                                 "selection and import it in parts.")
            break
        blob, problem = _read_member(zf, info, limits.max_member)
        if blob is None:
            result.errors.append(f"Skipped “{shown}”: {problem}")
            continue
        budget[0] -= len(blob)
        entry = _image_entry(name, blob, index.get(name[len(base):]) if name.startswith(base) else None,
                             info, limits, result)
        listed.discard(name[len(base):] if name.startswith(base) else name)
        if entry is None:
            continue
        images += 1
        if entry["sha256"] in existing or entry["sha256"] in seen:
            result.duplicates.append(name)
            continue
        seen.add(entry["sha256"])
        result.new_entries.append(entry)
    if listed and index:
        result.notes.append(f"The archive's index lists {len(listed)} image{'s' if len(listed) != 1 else ''} "
                            "the archive does not hold.")
    if not images and not result.errors:
        result.errors.append("This ZIP holds no images, so nothing was imported.")


def _read_index(zf: zipfile.ZipFile, infos: list, limits: ImportLimits, result: ImportResult,
                budget: list[int]) -> tuple[dict[str, dict], str]:
    """(file name → index entry, folder of the index).  An archive re-zipped by a file manager
    has everything one folder down; the index's folder is where its file names start."""
    candidates = [i for i in infos
                  if not i.is_dir() and (i.filename == INDEX_NAME or (i.filename.endswith("/" + INDEX_NAME)
                                                                   and i.filename.count("/") == 1))
                  and not _NOISE.search(i.filename)]
    if not candidates:
        result.notes.append("The archive has no index.json; the settings were read from the images themselves.")
        return {}, ""
    info = min(candidates, key=lambda i: len(i.filename))
    base = info.filename[: -len(INDEX_NAME)]
    fallback = "The archive's index.json could not be read; the settings were read from the images themselves."
    if info.file_size > limits.max_index or info.flag_bits & 0x1:
        result.notes.append(fallback)
        return {}, base
    raw, _problem = _read_member(zf, info, limits.max_index)
    if raw is None:
        result.notes.append(fallback)
        return {}, base
    budget[0] -= len(raw)
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        result.notes.append(fallback)
        return {}, base
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        result.notes.append(fallback)
        return {}, base
    if doc.get("app") != APP:
        result.notes.append("The archive's index.json was not written by imagesynth; the settings were read "
                            "from the images themselves.")
        return {}, base
    version = doc.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > INDEX_VERSION:
        result.notes.append("This archive was exported by a newer imagesynth; what this version does not know "
                            "was left out.")
    out: dict[str, dict] = {}
    for e in doc["entries"]:
        if isinstance(e, dict) and isinstance(e.get("file"), str) and e["file"] not in out:
            out[e["file"]] = e
    return out, base


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> tuple[bytes | None, str]:
    """The member's bytes, reading at most ``cap`` + 1 whatever its header claims (a header can
    lie about the size; the decompressor is never asked for more than the cap)."""
    try:
        with zf.open(info) as f:
            blob = f.read(cap + 1)
            if len(blob) > cap:
                return None, f"it unpacks to more than {_mb(cap)}."
            # reading to the end is what makes zipfile check the CRC
            if f.read(1):
                return None, f"it unpacks to more than {_mb(cap)}."
    except NotImplementedError:
        return None, "it is compressed in a way this browser cannot unpack."
    except RuntimeError:  # zipfile's word for "encrypted, and no password"
        return None, "it is encrypted."
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, UnicodeDecodeError):
        return None, "it is damaged."
    return blob, ""


def _image_entry(name: str, blob: bytes, meta: dict | None, info: zipfile.ZipInfo, limits: ImportLimits,
                 result: ImportResult) -> dict | None:
    shown = _show(name)
    fmt = sniff_format(blob)
    if fmt not in _MIME:
        what = "" if fmt is None else f" (it is {fmt.upper()})"
        result.errors.append(f"Skipped “{shown}”: it is not a PNG, JPEG or WebP image{what}.")
        return None
    try:
        width, height = image_size(blob, fmt)
    except ImageInputError:
        result.errors.append(f"Skipped “{shown}”: the image is damaged.")
        return None
    if width <= 0 or height <= 0 or width * height > limits.max_pixels:
        result.errors.append(f"Skipped “{shown}”: it claims {width}x{height} pixels, more than any image "
                             "imagesynth makes.")
        return None
    try:
        complete = looks_complete(blob, fmt)
    except Exception:
        complete = False
    if not complete:
        result.errors.append(f"Skipped “{shown}”: the image is cut short.")
        return None
    sha = image_hash(blob)

    params = None
    described = meta is not None  # the index lists this image, with the bytes it exported
    if meta is not None:
        if isinstance(meta.get("sha256"), str) and meta["sha256"].lower() != sha:
            result.notes.append(f"“{shown}” was changed after it was exported; its settings were read from the "
                                "image itself where it has them.")
            meta = {k: v for k, v in meta.items() if k in ("favourite", "created")}
            described = False
        elif isinstance(meta.get("params"), dict):
            params = meta["params"]
    if params is None and fmt == "png":
        params = read_params(blob)
    if params is None:
        if not described:
            kind = "a PNG without imagesynth settings (not made by imagesynth?)" if fmt == "png" else \
                f"a {_NICE[fmt]} image the archive's index does not describe, and only PNGs carry their settings"
            result.errors.append(f"Skipped “{shown}”: it is {kind}.")
            return None
        params = {}
    params = scrub(params)
    if len(json.dumps(params, ensure_ascii=False, default=str)) > _MAX_PARAMS_JSON:
        result.notes.append(f"The settings stored with “{shown}” were far too large and were left out.")
        params = {k: params[k] for k in ("prompt", "model") if isinstance(params.get(k), str)
                  and len(params[k]) <= 40_000}
    prompt = (meta or {}).get("prompt")
    if not isinstance(prompt, str):
        prompt = params.get("prompt") if isinstance(params.get("prompt"), str) else ""
    created = _to_ms((meta or {}).get("created")) or _to_ms(params.get("created")) or _zip_ms(info)
    return {
        "created": created,
        "prompt": prompt,
        "params": params,
        "favourite": (meta or {}).get("favourite") is True,
        "png_bytes": blob,
        "mime": _MIME[fmt],
        "sha256": sha,
        "width": width,
        "height": height,
        "file": name,
    }


# -------------------------------------------------------------------------------------- helpers
def _safe_name(name: str) -> bool:
    """A plain relative path: nothing absolute, no parent steps, no drive letters or backslashes
    (Windows reads them as separators), no control characters."""
    if not name or len(name) > 512 or "\\" in name or _CONTROL.search(name):
        return False
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return False
    return all(part not in ("..", ".") for part in name.split("/"))


def _show(name: str) -> str:
    """A member name fit to quote in a message (the page shows it as text, never as HTML)."""
    name = _CONTROL.sub("", name)
    return name if len(name) <= 80 else name[:79] + "…"


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def _to_datetime(value: Any) -> datetime | None:
    """ms since the epoch (the store's unit), seconds, or an ISO 8601 string → aware UTC datetime."""
    try:
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            seconds = value / 1000 if abs(value) > 1e11 else value
            return datetime.fromtimestamp(seconds, timezone.utc)
        if isinstance(value, str) and value.strip():
            text = value.strip()
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            d = datetime.fromisoformat(text)
            return d.replace(tzinfo=timezone.utc) if d.tzinfo is None else d.astimezone(timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _to_ms(value: Any) -> float | None:
    d = _to_datetime(value)
    return d.timestamp() * 1000 if d is not None else None


def _zip_ms(info: zipfile.ZipInfo) -> float:
    try:
        return datetime(*info.date_time, tzinfo=timezone.utc).timestamp() * 1000
    except (ValueError, TypeError, OverflowError):
        return time.time() * 1000


def _zip_time(d: datetime) -> tuple[int, int, int, int, int, int]:
    """ZIP timestamps cover 1980–2107 only."""
    if d.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    if d.year > 2107:
        return (2107, 12, 31, 23, 59, 58)
    return (d.year, d.month, d.day, d.hour, d.minute, d.second)


def _iso(d: datetime) -> str:
    return d.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
