"""Load check: 50 concurrent generation requests against one server, all answered
correctly and in bounded time, and the event loop stays responsive meanwhile."""

from __future__ import annotations

import asyncio
import base64
import time

import httpx

from contract import validate_against
from sandbox_testkit import AUTH
from serverfixture import running_server

N = 50
BOUND_S = 60  # generous: about 50 × 1024² PNGs on 2 cores take a few seconds


async def _run(api_base: str):
    limits = httpx.Limits(max_connections=N)
    async with httpx.AsyncClient(base_url=api_base, headers=AUTH, timeout=BOUND_S, limits=limits) as client:
        async def one(i: int):
            r = await client.post("/images/generations",
                                  json={"model": "gpt-image-1", "prompt": f"load test picture {i}", "quality": "low"})
            return i, r

        async def ping():
            # while the 50 are in flight, a cheap request is answered quickly: CPU work is off the loop
            await asyncio.sleep(0.2)
            t = time.perf_counter()
            r = await client.get("/models")
            return r.status_code, time.perf_counter() - t

        t0 = time.perf_counter()
        results, pinged = await asyncio.gather(asyncio.gather(*(one(i) for i in range(N))), ping())
        return results, pinged, time.perf_counter() - t0


def test_fifty_concurrent_generations():
    with running_server() as srv:
        results, (ping_status, ping_s), elapsed = asyncio.run(_run(srv.api_base))
    assert elapsed < BOUND_S
    seen = set()
    for i, r in results:
        assert r.status_code == 200, r.text[:200]
        body = r.json()
        validate_against("ImagesResponse", body)
        raw = base64.b64decode(body["data"][0]["b64_json"])
        assert raw.startswith(b"\x89PNG")
        seen.add(raw)
    assert len(seen) == N  # each prompt its own picture
    assert ping_status == 200 and ping_s < 5, ping_s


# --- identical requests in flight at once: told apart by arrival order ---------------------------
STREAM_BODY = {"model": "gpt-image-1", "prompt": "three identical streams", "quality": "low", "size": "1024x1024",
               "stream": True, "partial_images": 1, "n": 1}


def _completed_png(text: str) -> bytes:
    from sandbox_testkit import parse_sse

    done = [d for ev, d in parse_sse(text) if ev.endswith(".completed")]
    assert len(done) == 1, text[:300]
    return base64.b64decode(done[0]["b64_json"])


async def _streams(api_base: str, k: int) -> list[bytes]:
    async with httpx.AsyncClient(base_url=api_base, headers=AUTH, timeout=60) as client:
        async def one():
            r = await client.post("/images/generations", json=STREAM_BODY)
            assert r.status_code == 200, r.text[:200]
            return _completed_png(r.text)

        return list(await asyncio.gather(*(one() for _ in range(k))))


def test_identical_concurrent_streams_get_different_pictures_and_repeats_are_identical():
    with running_server() as srv:
        together = asyncio.run(_streams(srv.api_base, 3))
        first = asyncio.run(_streams(srv.api_base, 1))[0]
        again = asyncio.run(_streams(srv.api_base, 1))[0]
    assert len(set(together)) == 3  # n streams in flight at once: n different pictures
    assert first == again  # the same request afterwards: the same bytes
    assert first in together  # alone in flight it has slot 0, as the first of the three had


def test_slots_are_lowest_free_and_released():
    from imagesynth.server.sandbox import Sandbox
    from imagesynth.server.validation import build_job

    sb = Sandbox()
    job = build_job("generate", {"model": "gpt-image-1", "prompt": "p"}, from_form=False,
                    resolve_url=sb.store.resolve_url)
    other = build_job("generate", {"model": "gpt-image-1", "prompt": "q"}, from_form=False,
                      resolve_url=sb.store.resolve_url)
    a, b, c = sb.take_slot(job), sb.take_slot(job), sb.take_slot(other)
    assert (a[1], b[1], c[1]) == (0, 1, 0)
    sb.release_slot(*a)
    assert sb.take_slot(job)[1] == 0  # the lowest free slot
    sb.release_slot(*b)
    sb.release_slot(a[0], 0)
    sb.release_slot(*c)
    assert sb.in_flight == {}
