"""bench/run.py runs, prints its one table and writes JSON with every row (issue 7).

No figure is asserted: these machines are noisy, and a row whose dependency is
missing reports "n/a (reason)" instead of failing.  Only that the script works.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "run.py"


def _run_module():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import run  # noqa: PLC0415
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return run


def _rows():
    return _run_module().ROWS


def test_noscript_page_is_the_app_page_without_any_script(tmp_path):
    """The typing row's context baseline: the repo's index.html minus every script and preload,
    with its stylesheet, its CSP <meta>, the prompt box, and the class a first visit gets."""
    run = _run_module()
    (tmp_path / "index.html").write_text((ROOT / "index.html").read_text(encoding="utf-8"), encoding="utf-8")
    run._noscript_page(tmp_path)
    html = (tmp_path / run.NOSCRIPT_PAGE).read_text(encoding="utf-8")
    assert "<script" not in html and "preload" not in html and "<mpy-config" in html
    for kept in ('http-equiv="Content-Security-Policy"', 'href="static/app.css"', 'id="prompt"',
                 'id="connect"', '<html lang="en" class="first-run">'):
        assert kept in html, kept


def test_bench_quick_runs_prints_table_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--runs", "1", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = _rows()
    lines = proc.stdout.splitlines()
    assert any(line.startswith("figure") and "baseline" in line and "ratio" in line for line in lines), proc.stdout
    for _key, figure, _target in rows:
        line = next((ln for ln in lines if ln.startswith(figure)), None)
        assert line is not None, f"no table row for {figure!r}:\n{proc.stdout}"
        assert line.rstrip().endswith(("PASS", "MISS", "info")) or "n/a (" in line, line

    doc = json.loads(out.read_text())
    assert doc["meta"]["runs"] == 1 and doc["meta"]["quick"] is True
    assert set(doc["rows"]) == {key for key, _f, _t in rows}
    for key, row in doc["rows"].items():
        assert row["status"] in ("PASS", "MISS", "n/a", "info"), (key, row)
        assert (row["status"] == "info") <= (row["target"] == "(context)"), (key, row)  # no target, no verdict
        assert row["figure"] and row["target"], (key, row)
        if row["status"] == "n/a":
            assert row["note"], f"{key}: n/a without a reason"
        else:
            assert isinstance(row["value"], (int, float)), (key, row)
    # the context baselines are pages of bench/pages: one that never gets ready would leave its
    # rows (and with them the whole group) n/a, which the loop above accepts
    if Path(_run_module().CHROMIUM).exists():
        for key in ("ready_cold_pyscript", "ready_warm_pyscript"):
            assert doc["rows"][key]["status"] == "info" and doc["rows"][key]["baseline"] > 0, doc["rows"][key]
        # the warm row is a returning visit: the first visit saved its snapshot, the second used it
        assert "saved/snapshot/fresh" in doc["rows"]["ready_warm"]["note"], doc["rows"]["ready_warm"]
        assert doc["rows"]["ready_warm_nosnap"]["status"] == "info", doc["rows"]["ready_warm_nosnap"]


def test_bench_help():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for flag in ("--runs", "--json", "--quick"):
        assert flag in proc.stdout


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
