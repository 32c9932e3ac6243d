"""RequestsTransport over real HTTP to the sandbox: bodies, streams, time-outs, cancellation."""

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from serverfixture import running_server  # noqa: E402

from imagesynth.errors import ConnectionFailed, TimeoutError_  # noqa: E402
from imagesynth.http import HttpRequest  # noqa: E402
from imagesynth.transports.cpython import RequestsTransport  # noqa: E402


@pytest.fixture(scope="module")
def srv():
    with running_server() as s:
        yield s


def gen_request(srv, prompt="a pond", stream=False, timeout=30.0, **extra):
    body = {"model": "gpt-image-1", "prompt": prompt, "size": "1024x1024", **extra}
    if stream:
        body.update(stream=True, partial_images=2)
    return HttpRequest("POST", srv.api_base + "/images/generations",
                       {"Authorization": f"Bearer {srv.key}", "Content-Type": "application/json"},
                       json.dumps(body).encode(), stream=stream, timeout=timeout)


async def test_plain_request(srv):
    resp = await RequestsTransport().send(gen_request(srv))
    assert resp.status == 200 and resp.chunks is None
    assert json.loads(resp.body)["data"][0]["b64_json"]
    assert resp.header("Content-Type").startswith("application/json") and resp.header("x-request-id")


async def test_stream_arrives_in_chunks(srv):
    resp = await RequestsTransport().send(gen_request(srv, stream=True))
    assert resp.status == 200 and resp.chunks is not None and resp.body == b""
    parts = [c async for c in resp.chunks]
    text = b"".join(parts)
    assert len(parts) > 1 and text.count(b"partial_image") >= 2 and b".completed" in text


async def test_error_status_on_a_stream_is_read_whole(srv):
    req = gen_request(srv, stream=True)
    req.headers["Authorization"] = "Bearer nope"
    resp = await RequestsTransport().send(req)
    assert resp.status == 401 and resp.chunks is None and b"error" in resp.body


async def test_connection_refused_names_the_host_not_the_key():
    req = HttpRequest("GET", "http://127.0.0.1:9/v1/models", {"Authorization": "Bearer sk-SECRET"}, timeout=5)
    with pytest.raises(ConnectionFailed) as e:
        await RequestsTransport().send(req)
    assert "127.0.0.1" in str(e.value) and "SECRET" not in str(e.value) and "base URL" in str(e.value)


async def test_timeout(srv):
    with pytest.raises(TimeoutError_):
        await RequestsTransport().send(gen_request(srv, prompt="slow [[sandbox:slow:3]]", timeout=0.3))


async def test_cancellation_returns_at_once(srv):
    t0 = time.monotonic()
    task = asyncio.create_task(RequestsTransport().send(gen_request(srv, prompt="slower [[sandbox:slow:3]]")))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - t0 < 1.5


def test_event_loop_exit_does_not_wait_for_abandoned_requests(srv):
    """Ctrl-C in the command must not hang until pending requests time out."""
    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(RequestsTransport().send(gen_request(srv, prompt="stuck [[sandbox:slow:3]]")), 0.2)

    t0 = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - t0 < 1.5
