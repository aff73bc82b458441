"""How to test it: an app-scoped resource replaced by an override (docs/dependencies-app-scope.md)."""

# --8<-- [start:test]
import sqlite3
from collections.abc import Iterator

from main import app, get_db

from hasten.testclient import TestClient


def seeded_db() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE TABLE hits (path TEXT)")
    db.execute("INSERT INTO hits VALUES ('seeded')")
    yield db
    db.close()


def test_hits_on_a_seeded_database() -> None:
    app.dependency_overrides[get_db] = seeded_db  # set before startup: made instead of get_db
    try:
        with TestClient(app) as client:
            assert client.post("/hits/a").json() == {"hits": 2}
            assert client.post("/hits/b").json() == {"hits": 3}
    finally:
        app.dependency_overrides.clear()


# --8<-- [end:test]
