"""`imagesynth serve` as a command: prints its URL and key, serves, stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx

from imagesynth.server.cli import build_parser, listen, main


def test_parser_defaults():
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.no_sandbox, args.open, args.sandbox_key, args.site) == \
        ("127.0.0.1", 8000, False, False, "sk-sandbox", None)


def test_connections_send_without_waiting_for_acks():
    """Every accepted connection has TCP_NODELAY (inherited from the listener): without it a
    kept-alive connection's second response waited ~40 ms for the browser's delayed ACK."""
    with listen("127.0.0.1", 0) as srv, socket.create_connection(srv.getsockname()) as client:
        conn, _ = srv.accept()
        with conn:
            assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0  # BSDs return the flag bit


def test_missing_site_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["--site", str(tmp_path / "nope"), "--port", "0"]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_serve_runs_and_stops_on_ctrl_c(tmp_path):
    (tmp_path / "index.html").write_text("<p>the app</p>")
    proc = subprocess.Popen([sys.executable, "-m", "imagesynth.server", "--port", "0", "--site", str(tmp_path),
                             "--sandbox-key", "sk-test"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        url = re.search(r"http://127\.0\.0\.1:\d+/", lines[0]).group(0)
        assert "sk-test" in lines[1] and "/v1" in lines[1]
        deadline = time.monotonic() + 10
        while True:
            try:
                r = httpx.get(url)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert r.text == "<p>the app</p>"
        assert httpx.get(url + "v1/models", headers={"Authorization": "Bearer sk-test"}).status_code == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        assert "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
