"""Key functions: client address behind proxies, API key, user, anything (docs/ratelimit.md)."""

from typing import Annotated, Any

from hasten import Depends, FastAPI, Header, HTTPException, Request
from hasten.ratelimit import (
    RateLimit,
    SlidingWindow,
    by_client,
    by_header,
    by_user,
)

app = FastAPI()

# --8<-- [start:proxies]
# Behind a reverse proxy at 10.0.0.0/8: X-Forwarded-For is believed only when the request comes
# from the proxy, and the client is the right-most address the proxy did not write itself.
behind_proxy = by_client(trusted_proxies=["10.0.0.0/8"])


@app.get("/public", dependencies=[RateLimit(SlidingWindow(2, 60), key=behind_proxy)])
async def public() -> str:
    return "ok"


# --8<-- [end:proxies]

# --8<-- [start:api_key]
# Per API key (requests without one are limited by client address).
per_key = by_header("X-API-Key", fallback=by_client())


@app.get("/data", dependencies=[RateLimit(SlidingWindow(2, 60), key=per_key)])
async def data() -> str:
    return "data"


# --8<-- [end:api_key]


# --8<-- [start:user]
async def current_user(authorization: Annotated[str | None, Header()] = None) -> str | None:
    if authorization is None:
        return None
    if not authorization.startswith("Bearer "):
        raise HTTPException(401, "Not authenticated")
    return authorization.removeprefix("Bearer ")  # a real app decodes a token here


# Per user: the dependency is solved once per request, for the limit and the endpoint alike.
@app.get("/me", dependencies=[RateLimit(SlidingWindow(2, 60), key=by_user(current_user))])
async def me(user: Annotated[str | None, Depends(current_user)]) -> dict[str, Any]:
    return {"user": user}


# --8<-- [end:user]


# --8<-- [start:function]
# Any function of the request (sync or async); None leaves the request unlimited.
def tenant(request: Request) -> str | None:
    return request.headers.get("x-tenant")


@app.get("/reports", dependencies=[RateLimit(SlidingWindow(2, 60), key=tenant)])
async def reports() -> str:
    return "reports"


# --8<-- [end:function]


def check(client: Any) -> None:
    import asyncio

    import httpx

    async def statuses(peer: str, path: str, headers: list[dict[str, str]]) -> list[int]:
        transport = httpx.ASGITransport(app=app, client=(peer, 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return [(await http.get(path, headers=h)).status_code for h in headers]

    # A client that rotates X-Forwarded-For without being the proxy is one client.
    rotating = [{"X-Forwarded-For": f"203.0.113.{n}"} for n in range(3)]
    assert asyncio.run(statuses("198.51.100.7", "/public", rotating)) == [200, 200, 429]
    # Through the proxy, each forwarded client has its own quota.
    assert asyncio.run(statuses("10.0.0.2", "/public", rotating)) == [200, 200, 200]

    assert [client.get("/data", headers={"X-API-Key": "k1"}).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    assert client.get("/data", headers={"X-API-Key": "k2"}).status_code == 200

    alice = {"Authorization": "Bearer alice"}
    assert [client.get("/me", headers=alice).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/me", headers={"Authorization": "Bearer bob"}).json() == {"user": "bob"}

    assert [client.get("/reports").status_code for _ in range(3)] == [200, 200, 200]
    acme = {"x-tenant": "acme"}
    assert [client.get("/reports", headers=acme).status_code for _ in range(3)] == [200, 200, 429]
