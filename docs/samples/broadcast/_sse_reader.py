"""Read a few events of an endless SSE response straight through ASGI (for the samples' checks).

``TestClient`` waits for a response to end; an event stream never does, so the checks call
the app themselves and disconnect once they have what they need.
"""

from typing import Any

import anyio


async def read_events(app: Any, path: str, count: int) -> list[str]:
    """The ``data:`` lines of the first ``count`` events of ``GET path``, then disconnect."""
    done = anyio.Event()
    body: list[str] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body.append(message.get("body", b"").decode())
            if "".join(body).count("data:") >= count:
                done.set()

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
        "client": ("127.0.0.1", 50000),
        "server": ("docs", 80),
        "state": {},
    }
    with anyio.fail_after(10):
        await app(scope, receive, send)
    lines = "".join(body).splitlines()
    return [line.removeprefix("data: ") for line in lines if line.startswith("data:")]
