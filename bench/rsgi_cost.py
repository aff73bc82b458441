"""What the RSGI adapter (``hasten._rsgi``) costs per request, in CPU instructions.

    .bench-venv/bin/python -m bench.rsgi_cost [--requests 2000] [--endpoints plaintext,json]

The app is the benchmark's Hasten app (bench/apps/hasten_app.py); the endpoints are any of the
benchmark's requests without a body (bench/_spec.py's ``BENCH_REQUESTS``: ``plaintext``,
``json``, ``path-query``, ``deps``, ``users``), whose success case the answer must match. Each
endpoint is measured three ways, in-process, no server and no sockets:

  rsgi   ``app.__rsgi__(scope, protocol)`` with a fake RSGI scope (plain attributes; the
         headers a ``dict`` whose ``items()`` is a C call returning a new list of the pairs,
         as Granian's header mapping of a request without repeated names) and a fake protocol
         whose ``response_bytes``/``response_str`` only store what they get. ``plaintext``
         and ``json`` are answered without the ASGI stack here (``hasten._rsgi.direct``);
         the others take the stack's way after the direct answer's checks
  served the same through ``hasten._rsgi.RSGIServed(app)`` without its direct answers: the
         ASGI adapter and the app's whole stack, as every other request runs on Granian
  asgi   the app awaited directly with an equivalent ASGI scope (a copy of a prepared one per
         request, its headers new ``bytes`` pairs made in C as an ASGI server makes them), a
         ``receive`` that answers an empty body and a ``send`` that stores

As in a Granian worker, ``rsgi`` and ``served`` run between ``__rsgi_init__`` and
``__rsgi_del__`` (the lifespan's startup and shutdown) on one event loop. The adapter's cost is
``served`` minus ``asgi``: the ASGI scope, the ``receive``/``send`` pair and the protocol call
it makes, plus the fake protocol's own Python method; ``direct`` is what the direct answer
saves against that way (``served`` minus ``rsgi``). The RSGI scope object is
reused across requests with its path, method and address strings (Granian makes new ones, so
a lookup by the client address hashes it afresh: a few hundred instructions at most); its
header strings are new each time.

Each (endpoint, way) runs under ``valgrind --tool=callgrind`` (``PYTHONHASHSEED=0``),
after a 300-request warm-up (start-up objects frozen out of the collector, counting started
after the warm-up), once with ``--requests`` and once with twice as many requests; the
difference of the two counts divided by ``--requests`` is what one request costs
(bench/ratelimit_cost.py's ``callgrind_instructions``/``start_counting``). Each count is taken
twice and must repeat (see ``_stable_instructions``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import pickle
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from bench._spec import BENCH_REQUESTS, CASES
from bench.ratelimit_cost import callgrind_instructions, start_counting

ENDPOINTS = ("plaintext", "json")
WAYS = ("rsgi", "served", "asgi")
WARMUP = 300
_REQUEST_HEADERS = {"host": "127.0.0.1:8000", "accept": "*/*"}


def _request(endpoint: str) -> tuple[str, str, dict[str, str]]:
    """The path, query string and headers of the benchmark's request to ``endpoint`` (one
    without a body: bench/_spec.py's ``BENCH_REQUESTS``)."""
    req = BENCH_REQUESTS[endpoint]
    if req.method != "GET" or req.body:
        raise SystemExit(f"/{endpoint}: only the GET endpoints are measured here")
    path, _, query = req.target.partition("?")
    return path, query, {**_REQUEST_HEADERS, **dict(req.headers)}


class FakeHeaders(dict[str, str]):
    """Granian's RSGI header mapping: ``in`` and ``get`` as a dict's, ``items()`` a new list of
    new ``(name, value)`` tuples of new strings, made in C (``pickle.loads``) as Granian makes
    them in Rust: a dict's own items view would cost more to walk than Granian's list, and
    strings kept from one request to the next would carry their hashes along."""

    def __init__(self, pairs: dict[str, str]) -> None:
        super().__init__(pairs)
        made = partial(pickle.loads, pickle.dumps(list(pairs.items())))
        self.items = made  # type: ignore[method-assign]


class FakeScope:
    """Granian's RSGI HTTP scope, as plain attributes."""

    __slots__ = (
        "proto", "http_version", "rsgi_version", "server", "client", "scheme", "method", "path",
        "query_string", "headers", "authority",
    )  # fmt: skip

    def __init__(self, endpoint: str) -> None:
        path, query, headers = _request(endpoint)
        self.proto = "http"
        self.http_version = "1.1"
        self.rsgi_version = "1.6"
        self.server = "127.0.0.1:8000"
        self.client = "127.0.0.1:50000"
        self.scheme = "http"
        self.method = "GET"
        self.path = path
        self.query_string = query
        self.headers = FakeHeaders(headers)
        self.authority: str | None = None


class FakeProtocol:
    """Granian's RSGI HTTP protocol for a request without body: responses are only stored."""

    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent: Any = None

    async def __call__(self) -> bytes:
        return b""

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.sent = (status, headers, body)

    def response_str(self, status: int, headers: list[tuple[str, str]], body: str) -> None:
        self.sent = (status, headers, body.encode())

    def response_empty(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.sent = (status, headers, b"")


def _asgi_scope(endpoint: str) -> dict[str, Any]:
    path, query, headers = _request(endpoint)
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _rsgi(app: Any, endpoint: str, count: int) -> None:
    scope, protocol = FakeScope(endpoint), FakeProtocol()
    call = app.__rsgi__
    for n in range(WARMUP + count):
        if n == WARMUP:
            _check(endpoint, protocol.sent)
            _start()
        await call(scope, protocol)
    _check(endpoint, protocol.sent)


async def _asgi(app: Any, endpoint: str, count: int) -> None:
    prepared = _asgi_scope(endpoint)
    fresh_headers = partial(pickle.loads, pickle.dumps(prepared["headers"]))
    sent: list[Any] = [None, None]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent[message["type"] == "http.response.body"] = message

    for n in range(WARMUP + count):
        if n == WARMUP:
            _check(endpoint, (sent[0]["status"], sent[0]["headers"], sent[1]["body"]))
            _start()
        scope = prepared.copy()
        scope["headers"] = fresh_headers()
        await app(scope, receive, send)
    _check(endpoint, (sent[0]["status"], sent[0]["headers"], sent[1]["body"]))


def _check(endpoint: str, sent: Any) -> None:
    """The answer is the benchmark's success case for ``endpoint`` (bench/_spec.py)."""
    case = CASES[endpoint][0]
    if sent is not None and sent[0] == case.status:
        body = bytes(sent[2])
        if isinstance(case.body, str) and body == case.body.encode():
            return
        if not isinstance(case.body, str) and json.loads(body) == case.body:
            return
    raise SystemExit(f"unexpected answer from /{endpoint}: {sent!r}")


def _start() -> None:
    gc.collect()
    gc.freeze()
    start_counting()


def _count_only(way: str, endpoint: str, count: int) -> None:
    from bench.apps.hasten_app import app

    if way == "asgi":
        asyncio.run(_asgi(app, endpoint, count))
        return
    served: Any = app
    if way == "served":
        from hasten._rsgi import RSGIServed

        served = RSGIServed(app)
    loop = asyncio.new_event_loop()
    try:  # as a Granian worker: the lifespan hooks around the requests, on the worker's loop
        served.__rsgi_init__(loop)
        loop.run_until_complete(_rsgi(served, endpoint, count))
        served.__rsgi_del__(loop)
    finally:
        loop.close()


def _stable_instructions(command: list[str], tries: int = 5) -> int:
    """``callgrind_instructions`` of ``command``, run until two runs agree.

    The count is deterministic, unless something else switches this user's callgrind
    instrumentation on or off meanwhile (``callgrind_control -i`` without a process id, as
    bench/wire_instructions.py runs it, reaches every callgrind process it can talk to). The
    runs here start valgrind with ``--vgdb=no`` (``VALGRIND_OPTS``), which callgrind_control
    cannot reach; two equal counts in a row are still required.
    """
    opts = os.environ.get("VALGRIND_OPTS", "")
    if "--vgdb=no" not in opts:
        os.environ["VALGRIND_OPTS"] = f"{opts} --vgdb=no".strip()
    last = callgrind_instructions(command)
    for _ in range(tries - 1):
        count = callgrind_instructions(command)
        if count == last:
            return count
        last = count
    raise SystemExit(f"callgrind counts kept changing ({tries} runs): is callgrind_control in use?")


def per_request(way: str, endpoint: str, count: int) -> float:
    """Instructions of one request: runs of ``count`` and ``2 * count`` requests, differenced."""
    base = [sys.executable, "-m", "bench.rsgi_cost", "--count-only", f"{way}:{endpoint}"]
    once = _stable_instructions([*base, "--requests", str(count)])
    twice = _stable_instructions([*base, "--requests", str(2 * count)])
    return (twice - once) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--count-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_only:
        way, _, endpoint = args.count_only.partition(":")
        _count_only(way, endpoint, args.requests)
        return
    runs = [(way, endpoint) for endpoint in args.endpoints.split(",") for way in WAYS]
    with ThreadPoolExecutor(2) as pool:  # the counts do not depend on what runs beside them
        counts = list(pool.map(lambda run: per_request(run[0], run[1], args.requests), runs))
    found = dict(zip(runs, counts, strict=True))
    print(f"instructions per request (callgrind, {args.requests} vs {2 * args.requests} requests)")
    print(
        f"  {'endpoint':12s} {'rsgi':>10s} {'served':>10s} {'asgi':>10s}"
        f" {'adapter':>10s} {'direct':>10s}"
    )
    result: dict[str, dict[str, float]] = {}
    for endpoint in args.endpoints.split(","):
        rsgi, served, asgi = (found[way, endpoint] for way in WAYS)
        result[endpoint] = {
            "rsgi": rsgi, "served": served, "asgi": asgi,
            "adapter": served - asgi, "direct_saves": served - rsgi,
        }  # fmt: skip
        print(
            f"  /{endpoint:11s} {rsgi:10,.0f} {served:10,.0f} {asgi:10,.0f}"
            f" {served - asgi:10,.0f} {served - rsgi:10,.0f}"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
