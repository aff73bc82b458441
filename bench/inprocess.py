"""In-process ASGI benchmark: the same app on Hasten or FastAPI, called without a server.

    python bench/inprocess.py hasten|fastapi [--seconds S]

Prints one JSON line: {"framework", "endpoint", "rps", "requests"}. Run each framework in
its own process and interleave repetitions (see bench/compare.py).
"""

import argparse
import asyncio
import importlib
import json
import time
from typing import Annotated, Any


def build_app(fw: Any, sync_deps: bool) -> Any:
    app = fw.FastAPI()
    users = {"tok-alice": {"name": "alice", "role": "admin"}}

    def get_token(x_token: Annotated[str, fw.Header()]) -> str:
        return x_token

    def get_user(token: Annotated[str, fw.Depends(get_token)]) -> dict[str, str]:
        user = users.get(token)
        if user is None:
            raise fw.HTTPException(status_code=401, detail="Unknown token")
        return user

    def require_admin(user: Annotated[dict[str, str], fw.Depends(get_user)]) -> dict[str, str]:
        if user["role"] != "admin":
            raise fw.HTTPException(status_code=403, detail="Forbidden")
        return user

    if not sync_deps:  # the same chain as `async def` (no threadpool hop per dependency)
        get_token = _as_async(get_token)
        get_user = _as_async(get_user, {"token": Annotated[str, fw.Depends(get_token)]})
        require_admin = _as_async(
            require_admin, {"user": Annotated[dict[str, str], fw.Depends(get_user)]}
        )

    @app.get("/items/{item_id}")
    async def read_item(
        item_id: int,
        user: Annotated[dict[str, str], fw.Depends(require_admin)],
        q: str | None = None,
        limit: Annotated[int, fw.Query(ge=1, le=100)] = 10,
    ) -> dict[str, Any]:
        return {"item_id": item_id, "q": q, "limit": limit, "owner": user["name"]}

    return app


def _as_async(func: Any, annotations: dict[str, Any] | None = None) -> Any:
    async def wrapper(**kwargs: Any) -> Any:
        return func(**kwargs)

    import inspect

    sig = inspect.signature(func)
    params = [
        p.replace(annotation=(annotations or {}).get(p.name, p.annotation))
        for p in sig.parameters.values()
    ]
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__name__ = func.__name__
    return wrapper


async def run(app: Any, seconds: float) -> tuple[int, float]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/items/42",
        "raw_path": b"/items/42",
        "root_path": "",
        "query_string": b"q=hello&limit=5",
        "headers": [(b"host", b"bench"), (b"x-token", b"tok-alice")],
        "client": ("127.0.0.1", 1234),
        "server": ("bench", 80),
    }
    body = {"type": "http.request", "body": b"", "more_body": False}

    async def receive() -> dict[str, Any]:
        return body

    status: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    for _ in range(200):  # warm up (and build lazily-built parts)
        await app(dict(scope), receive, send)
    assert status[-1] == 200, status[-1]
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(100):
            await app(dict(scope), receive, send)
        count += 100
    return count, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("framework", choices=["hasten", "fastapi"])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--sync-deps", action="store_true", help="dependencies as plain def")
    args = parser.parse_args()
    fw = importlib.import_module(args.framework)
    app = build_app(fw, args.sync_deps)
    count, elapsed = asyncio.run(run(app, args.seconds))
    print(
        json.dumps(
            {
                "framework": args.framework,
                "version": getattr(fw, "__version__", "?"),
                "endpoint": "GET /items/{item_id}?q&limit + 3-level deps",
                "deps": "sync" if args.sync_deps else "async",
                "rps": round(count / elapsed),
                "requests": count,
            }
        )
    )


if __name__ == "__main__":
    main()
