"""The API contract as a test helper: validate an instance against one of its schemas.

The contract is shared/reference/openai-images-openapi.json.  Its location:
``$IMAGESYNTH_CONTRACT`` if set, else /work/shared/reference/..., else
``<repo>/../shared/reference/...`` (CI clones with shared/ beside the clone).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO = Path(__file__).resolve().parent.parent
_NAME = "openai-images-openapi.json"
DEFAULT_CONTRACT = "/work/shared/reference/" + _NAME
_URI = "urn:imagesynth:contract"


def contract_path() -> Path:
    env = os.environ.get("IMAGESYNTH_CONTRACT")
    candidates = [Path(env)] if env else []
    candidates += [Path(DEFAULT_CONTRACT), REPO.parent / "shared" / "reference" / _NAME]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(
        "API contract not found; set IMAGESYNTH_CONTRACT. Tried: " + ", ".join(map(str, candidates)))


#: the path in effect (for others' tests and messages)
CONTRACT = os.environ.get("IMAGESYNTH_CONTRACT", DEFAULT_CONTRACT)


@functools.lru_cache(maxsize=1)
def contract() -> dict:
    return json.loads(contract_path().read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _registry() -> Registry:
    return Registry().with_resource(_URI, Resource.from_contents(contract(), default_specification=DRAFT202012))


def schema(name: str) -> dict:
    return contract()["components"]["schemas"][name]


@functools.lru_cache(maxsize=None)
def validator(schema_name: str) -> jsonschema.protocols.Validator:
    if schema_name not in contract()["components"]["schemas"]:
        raise KeyError(f"no schema {schema_name!r} in the contract")
    ref = {"$ref": f"{_URI}#/components/schemas/{schema_name}"}
    return jsonschema.Draft202012Validator(ref, registry=_registry())


def validate_against(schema_name: str, instance) -> None:
    """Raise jsonschema.ValidationError (with every problem listed) if ``instance`` breaks the schema.

    ``nullable`` (OpenAPI 3.0 style, used in this 3.1 document) is ignored by
    JSON Schema: a null where the schema says string fails, which is what we
    want for requests we build (we never send nulls).
    """
    v = validator(schema_name)
    errors = sorted(v.iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        lines = "; ".join(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors)
        raise jsonschema.ValidationError(f"{schema_name}: {lines}")


def is_valid(schema_name: str, instance) -> bool:
    return not any(True for _ in validator(schema_name).iter_errors(instance))


def multipart_to_instance(content_type: str, body: bytes) -> tuple[dict, dict[str, list[bytes]]]:
    """A multipart body parsed back (with python-multipart, the server side's parser) →
    (schema instance, raw files by field name).

    Text fields become JSON values the way the API reads them (integers, booleans);
    binary fields are present as a placeholder string (the schema says
    ``format: binary``); ``image[]`` parts become the ``image`` array.
    """
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, params = parse_options_header(content_type)
    boundary = params[b"boundary"]
    parts: list[dict] = []
    cur: dict = {}
    header_field = bytearray()
    header_value = bytearray()

    def on_part_begin():
        cur.clear()
        cur.update(headers={}, data=bytearray())

    def on_header_field(data, start, end):
        header_field.extend(data[start:end])

    def on_header_value(data, start, end):
        header_value.extend(data[start:end])

    def on_header_end():
        cur["headers"][bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_part_data(data, start, end):
        cur["data"].extend(data[start:end])

    def on_part_end():
        parts.append({"headers": dict(cur["headers"]), "data": bytes(cur["data"])})

    parser = MultipartParser(boundary, callbacks=dict(
        on_part_begin=on_part_begin, on_header_field=on_header_field, on_header_value=on_header_value,
        on_header_end=on_header_end, on_part_data=on_part_data, on_part_end=on_part_end))
    parser.write(body)
    parser.finalize()

    instance: dict = {}
    files: dict[str, list[bytes]] = {}
    for part in parts:
        _, disp = parse_options_header(part["headers"][b"content-disposition"])
        name = disp[b"name"].decode()
        if b"filename" in disp:
            files.setdefault(name, []).append(part["data"])
            if name.endswith("[]"):
                instance.setdefault(name[:-2], []).append("<binary>")
            else:
                instance[name] = "<binary>"
            continue
        text = part["data"].decode("utf-8")
        instance[name] = _form_value(name, text)
    return instance, files


_INT_FIELDS = {"n", "partial_images", "output_compression"}
_BOOL_FIELDS = {"stream"}


def _form_value(name: str, text: str):
    # The contract types these fields integer/boolean; a form carries text.  A
    # value that does not convert stays text, so the schema check fails on it.
    if name in _BOOL_FIELDS and text in ("true", "false"):
        return text == "true"
    if name in _INT_FIELDS and text.lstrip("-").isdigit():
        return int(text)
    return text
