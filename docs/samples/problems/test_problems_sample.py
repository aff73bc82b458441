"""How to test it: the problem body of an unhandled error (docs/problems.md)."""

# --8<-- [start:test]
from hasten import Hasten
from hasten.problems import install
from hasten.testclient import TestClient


def test_an_unhandled_error_is_a_bare_500_problem() -> None:
    app = Hasten()
    install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("the database password is hunter2")

    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "instance": "/boom",
    }


# --8<-- [end:test]
