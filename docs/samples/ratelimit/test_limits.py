"""Testing limits without sleeping: an injected clock (docs/ratelimit.md)."""

# --8<-- [start:test]
from hasten import FastAPI
from hasten.ratelimit import MemoryBackend, RateLimit, SlidingWindow
from hasten.testclient import TestClient


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides() -> None:
    clock = Clock()
    app = FastAPI()
    limit = RateLimit(SlidingWindow(2, 60), backend=MemoryBackend(clock=clock))

    @app.get("/", dependencies=[limit])
    async def home() -> str:
        return "home"

    client = TestClient(app)
    assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]
    clock.now = 90.0  # half of the first window still counts: floor(2 * 0.5) = 1
    assert [client.get("/").status_code for _ in range(2)] == [200, 429]
    refused = client.get("/")
    assert refused.status_code == 429  # refusals carry the RateLimit headers
    assert refused.headers["ratelimit"].startswith('"default";r=0;t=')
    clock.now = 500.0  # long idle: forgotten
    assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]


# --8<-- [end:test]
