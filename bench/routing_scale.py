"""Routing cost as routes are added: requests/second hitting the LAST of N routes.

python bench/routing_scale.py hasten|fastapi [--seconds S]
"""

import argparse
import asyncio
import importlib
import time
from typing import Any


def build(fw: Any, count: int) -> Any:
    app = fw.FastAPI()
    for index in range(count):

        async def endpoint(item_id: int) -> dict[str, int]:
            return {"item_id": item_id}

        app.get(f"/r{index}/items/{{item_id}}", name=f"r{index}")(endpoint)
    return app


async def measure(app: Any, path: str, seconds: float) -> float:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    for _ in range(100):
        await app(dict(scope), receive, send)
    assert statuses[-1] == 200, statuses[-1]
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            await app(dict(scope), receive, send)
        count += 100
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("framework", choices=["hasten", "fastapi"])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    fw = importlib.import_module(args.framework)
    for count in (10, 100, 1000):
        rps = asyncio.run(measure(build(fw, count), f"/r{count - 1}/items/5", args.seconds))
        print(f"{args.framework:8} {count:5} routes: {rps:9.0f} req/s (last route)")


if __name__ == "__main__":
    main()
