"""Rate limits per route, per router and app-wide (docs/ratelimit.md)."""

from typing import Any

# --8<-- [start:app]
from hasten import APIRouter, FastAPI
from hasten.ratelimit import RateLimit, RateLimitMiddleware, SlidingWindow, TokenBucket

app = FastAPI()

# App-wide, before routing: 1000 requests per minute per client address; every answer says
# how many are left (headers=True; by default only refusals carry the RateLimit headers).
app.add_middleware(RateLimitMiddleware, policy=SlidingWindow(1000, 60), name="global", headers=True)


# Per route: 5 searches per 10 seconds per client.
@app.get("/search", dependencies=[RateLimit(SlidingWindow(5, 10), name="search", headers=True)])
async def search(q: str = "") -> dict[str, str]:
    return {"q": q}


# Per router: every route of the router draws from one bucket of 20, refilled at 2 per second.
api = APIRouter(prefix="/api", dependencies=[RateLimit(TokenBucket(20, 2.0), name="api")])


@api.get("/items")
async def items() -> list[int]:
    return [1, 2, 3]


app.include_router(api)
# --8<-- [end:app]


def check(client: Any) -> None:
    ok = client.get("/search")
    assert ok.status_code == 200
    # Both limits that apply report themselves, the route's first.
    assert ok.headers["ratelimit"] == '"search";r=4;t=10, "global";r=999;t=60'
    assert ok.headers["ratelimit-policy"] == '"search";q=5;w=10, "global";q=1000;w=60'
    for _ in range(4):
        client.get("/search")
    refused = client.get("/search")
    assert refused.status_code == 429
    assert refused.json() == {"detail": "Rate limit exceeded: 5 requests per 10 seconds"}
    assert 1 <= int(refused.headers["retry-after"]) <= 11
    # The router's limit (headers by default: on refusals only) adds nothing to an allowed
    # answer; the app-wide one reports itself.
    items = client.get("/api/items")
    assert items.status_code == 200
    assert items.headers["ratelimit"].startswith('"global";r=')
    assert '"api"' not in items.headers["ratelimit-policy"]
