"""A terminal progress bar fed by ProgressEvents (CPython only: tqdm is imported on use).

One bar for the whole call, counting finished images, with a short text of
where each unfinished image is ("2 waiting, 1 partial 2/3").  One bar per
image would scroll a narrow terminal for n=10 and say little more: the stage
text already tells which image is where.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any, TextIO

from .progress import ProgressEvent

_LABEL = {"preparing": "preparing", "uploading": "uploading", "waiting": "waiting",
          "partial": "partial", "decoding": "decoding", "retrying": "retrying"}


class ProgressBar:
    """Callable ProgressCallback drawing a tqdm bar on ``file`` (stderr by default)."""

    def __init__(self, total: int, *, file: TextIO | None = None, desc: str = "imagesynth",
                 disable: bool = False):
        from tqdm import tqdm

        self.total = total
        self.file = file or sys.stderr
        self.stage: dict[int, str] = {}
        self.partial: dict[int, str] = {}
        self.failed = 0
        self.note = ""
        #: the image the note is about: a retry note goes once that image moves on
        self.note_index: int | None = None
        self.bar = tqdm(total=total, desc=desc, unit="img", file=self.file,
                        disable=disable, leave=True, dynamic_ncols=True,
                        bar_format="{desc}: {n_fmt}/{total_fmt} |{bar}| {elapsed}{postfix}")

    def __call__(self, ev: ProgressEvent) -> None:
        if ev.stage in ("done", "failed"):
            self.stage.pop(ev.index, None)
            self.partial.pop(ev.index, None)
            self.bar.update(1)
            self.failed += ev.stage == "failed"
            if ev.stage == "failed":
                self.note = f"{self.failed} failed" if self.failed > 1 else f"image {ev.index + 1} failed"
                self.note_index = None
            elif self.note_index == ev.index:
                self.note, self.note_index = "", None
        else:
            self.stage[ev.index] = ev.stage
            if ev.stage == "partial" and ev.partial_index is not None:
                count = ev.partial_count or "?"
                self.partial[ev.index] = f"{ev.partial_index + 1}/{count}"
            if ev.stage == "retrying":
                self.note, self.note_index = ev.message, ev.index
            elif self.note_index == ev.index and ev.stage != "waiting":
                # the retried request got an answer: the retry note is no longer news
                self.note, self.note_index = "", None
        self.bar.set_postfix_str(self.summary(), refresh=True)

    def summary(self) -> str:
        counts = Counter(self.stage.values())
        parts = []
        for stage, label in _LABEL.items():
            if counts[stage]:
                text = f"{counts[stage]} {label}"
                if stage == "partial" and len(self.partial) == 1:
                    text += " " + next(iter(self.partial.values()))
                parts.append(text)
        if self.note:
            parts.append(self.note)
        return ", ".join(parts)

    def write(self, line: str) -> None:
        """Print a line above the bar without garbling it."""
        self.bar.write(line, file=self.file)

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
