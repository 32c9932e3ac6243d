"""History export/import: round trip, duplicates by content, and hostile archives refused
with plain sentences instead of exceptions."""

from __future__ import annotations

import io
import json
import re
import struct
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "py"))

from app.archive import ImportLimits, export_zip, image_hash, import_zip, slug  # noqa: E402
from imagesynth.pngmeta import read_params, write_params  # noqa: E402

KEY = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd"


def png(color=(10, 20, 30), size=(8, 6), params=None) -> bytes:
    b = io.BytesIO()
    Image.new("RGB", size, color).save(b, "PNG")
    data = b.getvalue()
    return write_params(data, params) if params is not None else data


def jpeg(color=(200, 10, 10)) -> bytes:
    b = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(b, "JPEG")
    return b.getvalue()


def entry(i: int, prompt: str, data: bytes | None = None, **kw) -> dict:
    params = {"prompt": prompt, "model": "gpt-image-1", "n": 1, "size": "256x256", "quality": "high",
              "created": "2026-06-01T10:00:00Z"}
    return {"id": i, "created": 1_780_000_000_000.0 + i * 1000, "prompt": prompt, "params": params,
            "favourite": i % 2 == 0, "png_bytes": data if data is not None else png((i, i, i), params=params),
            "mime": "image/png", **kw}


def history() -> list[dict]:
    return [entry(1, "A cat, in a hat!"), entry(2, "東京 at night 🌃"),
            entry(3, "a red square", jpeg(), mime="image/jpeg")]


def zip_of(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data, compress_type=compression)
    return b.getvalue()


# --------------------------------------------------------------------------------- round trip
def test_export_layout_and_index():
    data = export_zip(history(), exported=1_780_000_100)
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = zf.namelist()
    assert names[-1] == "index.json"
    for name in names[:-1]:
        assert re.fullmatch(r"\d{8}-\d{6}-[a-z0-9-]+-[0-9a-f]{8}\.(png|jpg)", name), name
    assert names[0].startswith("20260528-202641-") and "-a-cat-in-a-hat-" in names[0]
    assert "-at-night-" in names[1]  # only ASCII words make the slug
    assert names[2].endswith(".jpg")
    index = json.loads(zf.read("index.json"))
    assert index["app"] == "imagesynth" and index["version"] == 1 and index["exported"].endswith("Z")
    e = index["entries"][0]
    assert e["file"] == names[0] and e["sha256"] == image_hash(zf.read(names[0]))
    assert e["params"]["quality"] == "high" and e["favourite"] is False and e["prompt"] == "A cat, in a hat!"
    assert e["created"] == "2026-05-28T20:26:41.000Z"
    # images unchanged, parameters still inside the PNG
    assert zf.read(names[0]) == history()[0]["png_bytes"]
    assert read_params(zf.read(names[0]))["prompt"] == "A cat, in a hat!"


def test_round_trip():
    entries = history()
    result = import_zip(export_zip(entries), set())
    assert result.errors == [] and result.duplicates == []
    assert len(result.new_entries) == 3
    for before, after in zip(entries, result.new_entries):
        assert after["png_bytes"] == before["png_bytes"]
        assert after["sha256"] == image_hash(before["png_bytes"])
        assert after["prompt"] == before["prompt"]
        assert after["params"] == before["params"]
        assert after["favourite"] == before["favourite"]
        assert after["created"] == pytest.approx(before["created"], abs=1)
        assert after["mime"] == before["mime"]
        assert "id" not in after
    assert (result.new_entries[0]["width"], result.new_entries[0]["height"]) == (8, 6)
    assert result.summary == "Imported 3 images."


def test_duplicates_recognised_by_content():
    entries = history()
    data = export_zip(entries)
    existing = {image_hash(e["png_bytes"]) for e in entries}
    result = import_zip(data, existing)
    assert result.new_entries == [] and len(result.duplicates) == 3 and result.errors == []
    assert result.summary == "Imported 0 images; 3 were already in your history."
    # one already there, and the same image twice in the archive
    twice = export_zip([entries[0], entries[1], dict(entries[1], id=9)])
    result = import_zip(twice, {image_hash(entries[0]["png_bytes"])})
    assert len(result.new_entries) == 1 and len(result.duplicates) == 2


def test_export_never_carries_a_key():
    e = entry(1, "a cat")
    e["params"] = dict(e["params"], api_key=KEY, authorization=f"Bearer {KEY}", note=KEY)
    e["api_key"] = KEY
    data = export_zip([e])
    assert KEY.encode() not in data and b"sk-proj" not in data


def test_export_refuses_an_entry_without_bytes():
    with pytest.raises(ValueError, match="no image bytes"):
        export_zip([{"id": 5, "prompt": "x"}])


def test_slug():
    assert slug("A cat, in a hat!") == "a-cat-in-a-hat"
    assert slug("東京") == "image"
    assert len(slug("word " * 50)) <= 40


# ------------------------------------------------------------------------- without an index
def test_missing_index_reads_params_from_the_pngs():
    p = png(params={"prompt": "from the png", "model": "gpt-image-1", "created": "2026-02-03T04:05:06Z"})
    data = zip_of({"a.png": p, "b.jpg": jpeg(), "c.png": png()})
    result = import_zip(data, set())
    assert [e["prompt"] for e in result.new_entries] == ["from the png"]
    assert result.new_entries[0]["created"] == 1770091506000.0
    assert any("no index.json" in n for n in result.notes)
    assert any("“b.jpg”" in m and "JPEG" in m for m in result.errors)
    assert any("“c.png”" in m and "not made by imagesynth" in m for m in result.errors)


@pytest.mark.parametrize("index", [b"{not json", b'{"app": "imagesynth", "entries": 5}', b"[]", b"\xff\xfe",
                                   json.dumps({"app": "other", "entries": []}).encode(), b"9" * 100000])
def test_corrupt_index_falls_back(index):
    p = png(params={"prompt": "still here"})
    result = import_zip(zip_of({"index.json": index, "x.png": p}), set())
    assert [e["prompt"] for e in result.new_entries] == ["still here"]
    assert result.notes and result.errors == []


def test_export_rezipped_in_a_folder():
    src = zipfile.ZipFile(io.BytesIO(export_zip(history())))
    data = zip_of({f"my export/{n}": src.read(n) for n in src.namelist()} | {"__MACOSX/._x": b"junk",
                                                                          "my export/.DS_Store": b"junk"})
    result = import_zip(data, set())
    assert len(result.new_entries) == 3 and result.errors == [] and result.notes == []
    assert result.new_entries[0]["favourite"] is False and result.new_entries[1]["favourite"] is True


def test_changed_image_uses_its_own_params():
    data = export_zip([entry(1, "original")])
    zf = zipfile.ZipFile(io.BytesIO(data))
    name = zf.namelist()[0]
    edited = png((1, 2, 3), params={"prompt": "edited in another tool"})
    result = import_zip(zip_of({name: edited, "index.json": zf.read("index.json")}), set())
    assert result.new_entries[0]["prompt"] == "edited in another tool"
    assert any("changed after it was exported" in n for n in result.notes)


def test_index_params_are_scrubbed():
    p = png(params={"prompt": "x"})
    index = {"app": "imagesynth", "version": 1, "entries": [
        {"file": "x.png", "sha256": image_hash(p), "params": {"prompt": "x", "api_key": KEY, "token": "t"},
         "favourite": "yes", "created": "garbage"}]}
    result = import_zip(zip_of({"x.png": p, "index.json": json.dumps(index).encode()}), set())
    e = result.new_entries[0]
    assert e["params"] == {"prompt": "x"} and e["favourite"] is False and isinstance(e["created"], float)


# ------------------------------------------------------------------------------ hostile ZIPs
@pytest.mark.parametrize("data", [b"", b"hello", b"PK\x03\x04garbage", png(), b"PK\x05\x06" + b"\0" * 18, None, 42])
def test_not_a_zip(data):
    result = import_zip(data, set())
    assert result.new_entries == [] and len(result.errors) == 1
    assert result.errors[0].endswith(".")


def test_zip_bomb_member_refused_quickly():
    bomb = zip_of({"bomb.png": b"\0" * (80 * 1024 * 1024)})  # 80 MB of zeros in ~80 kB
    assert len(bomb) < 200_000
    t = time.monotonic()
    result = import_zip(bomb, set())
    assert time.monotonic() - t < 2
    assert result.new_entries == [] and "would unpack to 80 MB" in result.errors[0]


def test_total_size_capped():
    members = {f"{i}.png": png((i, 0, 0), size=(300, 300), params={"prompt": str(i)}) + b"\0" * 400_000
               for i in range(10)}
    result = import_zip(zip_of(members), set(), limits=ImportLimits(max_total=1_500_000))
    assert 2 <= len(result.new_entries) <= 4
    assert any(m.startswith("Stopped: the archive unpacks to more than") for m in result.errors)


def test_lying_size_header_is_caught():
    data = bytearray(zip_of({"a.png": png(params={"prompt": "a"}) + b"\0" * 100_000}))
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 100)  # central directory: "uncompressed size 100"
    result = import_zip(bytes(data), set())
    assert result.new_entries == [] and "damaged" in result.errors[0]


def test_too_many_entries_refused():
    data = zip_of({f"{i}.txt": b"x" for i in range(30)})
    result = import_zip(data, set(), limits=ImportLimits(max_entries=20))
    assert result.new_entries == [] and "30 files" in result.errors[0]


def test_oversized_input_refused():
    result = import_zip(b"PK" + b"\0" * 2000, set(), limits=ImportLimits(max_zip_bytes=1000))
    assert "imports archives of up to" in result.errors[0]


@pytest.mark.parametrize("name", ["../evil.png", "/etc/evil.png", "a/../../evil.png", "C:\\evil.png",
                                  "a\\..\\evil.png", "./x.png", "D:/evil.png"])
def test_path_traversal_names_refused(name):
    good = png(params={"prompt": "fine"})
    result = import_zip(zip_of({name: png(params={"prompt": "evil"}), "ok.png": good}), set())
    assert [e["prompt"] for e in result.new_entries] == ["fine"]
    assert len(result.errors) == 1 and "points outside the archive" in result.errors[0]


def test_non_images_damaged_and_huge_images_skipped():
    p = png(params={"prompt": "ok"})
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    gif = b"GIF89a" + b"\x01\x00\x01\x00" + b"\0" * 20
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    huge = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
            + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)))
    result = import_zip(zip_of({"notes.txt": b"hello", "x.svg": svg, "a.gif": gif, "cut.png": p[: len(p) // 2],
                                "huge.png": huge, "ok.png": p, "<img src=x onerror=alert(1)>.png": b"junk"}), set())
    assert [e["prompt"] for e in result.new_entries] == ["ok"]
    text = "\n".join(result.errors)
    assert "“notes.txt”: it is not a PNG, JPEG or WebP image." in text
    assert "“x.svg”" in text and "(it is SVG)" in text and "(it is GIF)" in text
    assert "“cut.png”" in text and "“huge.png”" in text and "100000x100000" in text
    assert "“<img src=x onerror=alert(1)>.png”" in text  # plain text; the page shows it as text
    assert all(m.endswith(".") for m in result.errors)


def test_encrypted_member_refused():
    data = bytearray(zip_of({"a.png": png(params={"prompt": "a"})}))
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 8] |= 1  # general purpose flag: encrypted
    data[4 + 2] |= 1  # and in the local header
    result = import_zip(bytes(data), set())
    assert result.new_entries == [] and "encrypted" in result.errors[0]


def test_unsupported_compression_refused():
    data = bytearray(zip_of({"a.png": png(params={"prompt": "a"})}, compression=zipfile.ZIP_STORED))
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<H", data, cd + 10, 99)  # AES / unknown method
    struct.pack_into("<H", data, 8, 99)
    result = import_zip(bytes(data), set())
    assert result.new_entries == [] and len(result.errors) == 1 and result.errors[0].startswith("Skipped “a.png”")


def test_empty_zip():
    result = import_zip(zip_of({}), set())
    assert result.errors == ["This ZIP holds no images, so nothing was imported."]
