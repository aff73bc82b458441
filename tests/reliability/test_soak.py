"""Soak: 200,000 in-process requests over the bench endpoints without memory growth.

The bench app (``bench/apps/hasten_app.py``: plaintext, JSON, path and query parameters, a
validated body, dependencies, a filtered list of 100 rows) is called over ASGI in one event
loop, endpoints in turn. After a warm-up of 10,000 requests the process's RSS is read; after
200,000 more it must have grown by less than 16 MiB, every answer must have had its expected
status, and no asyncio task may be left over. (``./scripts/soak`` runs the same endpoints
through a real server for longer.)
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._asgi import load_app, make_receive  # noqa: E402
from bench._spec import CASES  # noqa: E402

REQUESTS = 200_000
WARMUP = 10_000
RSS_GROWTH_BOUND = 16 * 1024 * 1024


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


async def _soak(app: Any, count: int, statuses: Counter[tuple[str, int]]) -> None:
    requests = [(name, case.req, case.status) for name, cases in CASES.items() for case in cases]
    prepared = [(name, req.scope(), make_receive(req.body), want) for name, req, want in requests]
    current: list[int] = [0]

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            current[0] = message["status"]

    for n in range(count):
        name, scope, receive, want = prepared[n % len(prepared)]
        await app(dict(scope), receive, send)
        statuses[(name, current[0] == want)] += 1


def test_200000_requests_keep_rss_flat() -> None:
    app = load_app("bench.apps.hasten_app")
    statuses: Counter[tuple[str, int]] = Counter()

    async def run() -> tuple[int, int, int]:
        await _soak(app, WARMUP, statuses)
        gc.collect()
        before = rss()
        await _soak(app, REQUESTS, statuses)
        gc.collect()
        leftover = len(asyncio.all_tasks()) - 1  # this one
        return before, rss(), leftover

    before, after, leftover = asyncio.run(run())
    wrong = {key: n for key, n in statuses.items() if not key[1]}
    assert not wrong, wrong
    assert sum(statuses.values()) == WARMUP + REQUESTS
    assert leftover == 0
    print(f"soak: {REQUESTS} requests, RSS {before / 2**20:.1f} -> {after / 2**20:.1f} MiB")
    assert after - before < RSS_GROWTH_BOUND, (before, after)
