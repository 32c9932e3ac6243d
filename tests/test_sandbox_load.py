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
