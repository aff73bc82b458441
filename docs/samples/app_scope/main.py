"""App-scoped dependencies: made once at startup, closed at shutdown (docs/dependencies-app-scope.md)."""

# --8<-- [start:app]
import sqlite3
from collections.abc import Iterator
from typing import Annotated

from hasten import Depends, Hasten


def get_settings() -> dict[str, str]:
    """Made once, at startup (a plain function: nothing to close)."""
    return {"database": ":memory:"}


Settings = Annotated[dict[str, str], Depends(get_settings, scope="app")]


def get_db(settings: Settings) -> Iterator[sqlite3.Connection]:
    """Opened once, at startup, after the settings it needs; closed at shutdown."""
    db = sqlite3.connect(settings["database"], check_same_thread=False)
    db.execute("CREATE TABLE hits (path TEXT)")
    yield db
    db.close()


Database = Annotated[sqlite3.Connection, Depends(get_db, scope="app")]

app = Hasten()


@app.post("/hits/{path}")
def hit(path: str, db: Database) -> dict[str, int]:
    with db:
        db.execute("INSERT INTO hits VALUES (?)", (path,))
    (count,) = db.execute("SELECT count(*) FROM hits").fetchone()
    return {"hits": count}


# --8<-- [end:app]


def check(client):  # type: ignore[no-untyped-def]
    # One in-memory database for every request: each connection would have its own.
    assert client.post("/hits/a").json() == {"hits": 1}
    assert client.post("/hits/b").json() == {"hits": 2}
    assert client.post("/hits/a").json() == {"hits": 3}
