"""Testing an app that broadcasts: the memory backend, and overriding the dependency (docs/broadcast.md)."""

# --8<-- [start:test]
from typing import Any

from main import app, broadcast

from hasten.testclient import TestClient


def test_members_of_a_room_hear_each_other() -> None:
    with TestClient(app) as client:  # the lifespan connects the broadcast
        with (
            client.websocket_connect("/rooms/a") as ann,
            client.websocket_connect("/rooms/a") as bob,
        ):
            ann.send_text("hi")
            assert bob.receive_text() == "hi"


class Recorder:
    """Stands in for the broadcast: keeps what the app publishes."""

    def __init__(self) -> None:
        self.published: list[tuple[str, Any]] = []

    async def publish(self, channel: str, message: Any) -> None:
        self.published.append((channel, message))


def test_posting_news_publishes_it() -> None:
    recorder = Recorder()
    app.dependency_overrides[broadcast] = lambda: recorder
    try:
        with TestClient(app) as client:
            assert client.post("/news", params={"headline": "Tea"}).status_code == 200
        assert recorder.published == [("news", {"headline": "Tea"})]
    finally:
        app.dependency_overrides.clear()


# --8<-- [end:test]
