"""Helpers shared by the sandbox tests: an in-process client, pictures to upload,
and the parsers that turn answers back into images and events."""

from __future__ import annotations

import base64
import io
import json

from PIL import Image, ImageChops, ImageDraw, ImageStat
from starlette.testclient import TestClient

from contract import validate_against
from imagesynth.server.app import create_app

KEY = "sk-sandbox"
AUTH = {"Authorization": f"Bearer {KEY}"}


def client(site_dir=None, **kw) -> TestClient:
    kw.setdefault("stream_delay", 0.0)
    return TestClient(create_app(site_dir, **kw))


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def picture(size=(256, 256), mode="RGB", seed=0) -> Image.Image:
    """A recognisable input picture: a diagonal gradient with a dark disc and a bar."""
    w, h = size
    grad = Image.linear_gradient("L").resize((w, h)).rotate(30 + seed * 40)
    img = Image.merge("RGB", (grad, grad.transpose(Image.FLIP_LEFT_RIGHT), Image.new("L", (w, h), 90 + seed * 50)))
    d = ImageDraw.Draw(img)
    d.ellipse((w * 0.2, h * 0.2, w * 0.55, h * 0.55), fill=(20, 20, 30))
    d.rectangle((w * 0.6, h * 0.1, w * 0.75, h * 0.9), fill=(240, 240, 220))
    return img.convert(mode)


def mask_png(size, box) -> bytes:
    """A mask: opaque everywhere, fully transparent (= edit here) inside ``box``."""
    m = Image.new("RGBA", size, (0, 0, 0, 255))
    ImageDraw.Draw(m).rectangle(box, fill=(0, 0, 0, 0))
    return png(m)


def decode(b64: str) -> Image.Image:
    im = Image.open(io.BytesIO(base64.b64decode(b64)))
    im.load()
    return im


def images_of(response) -> list[Image.Image]:
    body = response.json()
    validate_against("ImagesResponse", body)
    return [decode(d["b64_json"]) for d in body["data"]]


def mean_diff(a: Image.Image, b: Image.Image) -> float:
    a, b = a.convert("RGB"), b.convert("RGB").resize(a.size)
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def correlation(a: Image.Image, b: Image.Image, n: int = 32) -> float:
    """Pearson correlation of two pictures' luminance at n×n: structure, not colour."""
    xa = list(a.convert("L").resize((n, n), Image.BOX).tobytes())
    xb = list(b.convert("L").resize((n, n), Image.BOX).tobytes())
    ma, mb = sum(xa) / len(xa), sum(xb) / len(xb)
    cov = sum((p - ma) * (q - mb) for p, q in zip(xa, xb))
    va = sum((p - ma) ** 2 for p in xa) ** 0.5
    vb = sum((q - mb) ** 2 for q in xb) ** 0.5
    return cov / (va * vb) if va and vb else 0.0


def parse_sse(text: str) -> list[tuple[str, dict]]:
    """(event name, data) for each event of an event-stream body."""
    out = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            out.append((name, json.loads("\n".join(data))))
    return out


def error_of(response, status: int) -> dict:
    """The error object of a contract-shaped error answer with ``status``."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"message", "type", "param", "code"}, err
    assert isinstance(err["message"], str) and err["message"]
    return err
