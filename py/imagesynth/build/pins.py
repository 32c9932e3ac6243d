"""Pinned runtime inputs: what the browser page loads, and the hash each must have.

Data only.  Changing a version here means changing its hash in the same edit;
the build refuses any download whose hash differs.

npm tarballs carry the registry's ``dist.integrity`` (sha512, base64) as shown by
``npm view <name>@<version> dist.integrity``.  PyPI wheels carry the sha256 of
the file on PyPI (``pip hash FILE``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NpmPin:
    name: str  # npm package name
    version: str
    integrity: str  # "sha512-<base64>"

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def tarball_name(self) -> str:  # what `npm pack` writes
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"

    @property
    def registry_url(self) -> str:
        base = self.name.rsplit("/", 1)[-1]
        return f"https://registry.npmjs.org/{self.name}/-/{base}-{self.version}.tgz"


@dataclass(frozen=True)
class WheelPin:
    name: str  # PyPI project name
    version: str
    filename: str
    sha256: str
    lock_key: str  # key of its entry in pyodide-lock.json


PYSCRIPT = NpmPin(
    "@pyscript/core",
    "0.7.31",
    "sha512-GqM1aonc1N4RTkNZ1zJ8jJk8+i2cqeztZslPsAiQtn+wHHkUX9Z1FgIg4HjCvhBylB68UKmbTVTzOobpgPIMVQ==",
)

# The version PyScript 0.7.31's core.js names as its default Pyodide.
PYODIDE = NpmPin(
    "pyodide",
    "314.0.2",
    "sha512-rXkXOriXhzRkEV/coVGELjz4da77oNQEOu8hOf8dtBHEKOzqoIAmSJGeKuPl4wbLDv9EDibfKOchnC73CVX4DQ==",
)
PYODIDE_PYTHON = "3.14"
PYODIDE_PLATFORM = "pyemscripten_2026_0_wasm32"

# Optional (``--micropython``): the MicroPython build PyScript 0.7.31 defaults to.
MICROPYTHON = NpmPin(
    "@micropython/micropython-webassembly-pyscript",
    "1.28.0-6",
    "sha512-eRJw+jOhFPoEClHRI8RmzIBjORpOhVdDFcdrNYHUc0U+EwchuD5cYIfmgvj3RWim7vBnjBK8mYxMBBVduOo8Lw==",
)

WHEELS = (
    WheelPin(
        "micropip", "0.11.1", "micropip-0.11.1-py3-none-any.whl",
        "768de165adb8e66906039d8fec4127a57f522dfdf8e6fbff877a4616941ecfd3", "micropip",
    ),
    WheelPin(
        "packaging", "26.1", "packaging-26.1-py3-none-any.whl",
        "5d9c0669c6285e491e0ced2eee587eaf67b670d94a19e94e3984a481aba6802f", "packaging",
    ),
    WheelPin(
        "pyodide-http", "0.2.2", "pyodide_http-0.2.2-py3-none-any.whl",
        "cf006ea593c1643b5badeb4d42ed24a6eebd830276171fa1f82de0777b3fb608", "pyodide-http",
    ),
)

# Pillow has no pin: it is optional and its hash comes from the source that has it
# (the Pyodide distribution's own lock file).  Key in pyodide-lock.json:
PILLOW_LOCK_KEY = "pillow"
