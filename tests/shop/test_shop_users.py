"""/users, /auth, /tasks: registration with background work, avatars, tokens, roles."""

from __future__ import annotations

import email
import io
import socketserver
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import jwt
import pytest
from PIL import Image
from shop_support import ADMIN, PASSWORD, Shop, png_bytes

from examples.shop.main import create_app
from examples.shop.tasks import Email, get_email_sender
from hasten import Hasten
from hasten.testclient import TestClient

SECRET = "test-secret-" + "x" * 60


def test_register_returns_201_and_tasks_reach_done(shop: Shop, client: TestClient) -> None:
    created = shop.register("alice")
    assert created["user"] == {
        "id": created["user"]["id"],
        "username": "alice",
        "email": "alice@example.com",
        "role": "customer",
        "has_avatar": False,
    }
    assert "password" not in str(created) and "hash" not in str(created)
    task = shop.task(created["task_id"])
    # The status is hasten.taskqueue's record; the steps' outcomes are the task's result.
    assert task["id"] == created["task_id"]
    assert task["name"] == "shop.user_work"
    assert (task["state"], task["attempts"], task["error"]) == ("succeeded", 1, None)
    assert task["result"] == [
        {"name": "welcome_email", "status": "done", "error": None},
        {"name": "avatar", "status": "done", "error": None},
    ]
    assert [event["state"] for event in task["history"]] == ["queued", "running", "succeeded"]
    headers = shop.auth("alice")
    # The default sender stored the welcome e-mail in the outbox.
    emails = client.get("/users/me/emails", headers=headers).json()
    assert [(e["recipient"], e["subject"]) for e in emails] == [
        ("alice@example.com", "Welcome to the Hasten Shop")
    ]
    assert "Hello alice" in emails[0]["body"]
    # A default avatar was generated.
    me = client.get("/users/me", headers=headers).json()
    assert me["has_avatar"] is True
    avatar = client.get(f"/users/{me['id']}/avatar")
    assert avatar.status_code == 200 and avatar.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(avatar.content)).size == (128, 128)


def test_uploaded_avatar_is_thumbnailed(shop: Shop, client: TestClient) -> None:
    created = shop.register("bob", avatar=("me.png", png_bytes((400, 300), "blue"), "image/png"))
    assert shop.task(created["task_id"])["state"] == "succeeded"
    avatar = client.get(f"/users/{created['user']['id']}/avatar")
    image = Image.open(io.BytesIO(avatar.content))
    assert image.size == (128, 128)
    assert image.convert("RGB").getpixel((64, 64)) == (0, 0, 255)


def test_replace_avatar_and_failed_task_reports_error(shop: Shop, client: TestClient) -> None:
    shop.register("dora")
    headers = shop.auth("dora")
    ok = client.put(
        "/users/me/avatar",
        files={"avatar": ("a.png", png_bytes((64, 64), "green"), "image/png")},
        headers=headers,
    )
    assert ok.status_code == 202
    assert shop.task(ok.json()["task_id"])["state"] == "succeeded"

    broken = b"\x89PNG\r\n\x1a\n" + b"not really an image"
    bad = client.put(
        "/users/me/avatar", files={"avatar": ("b.png", broken, "image/png")}, headers=headers
    )
    assert bad.status_code == 202
    task = shop.task(bad.json()["task_id"])
    # A failed step fails the task at once (StepFailed is not retried), naming the step.
    assert (task["state"], task["attempts"]) == ("failed", 1)
    assert task["error"].startswith("StepFailed: avatar: InvalidImage: cannot decode the image (")


def test_avatar_too_large_is_413(make_settings: Any) -> None:
    app = create_app(make_settings(avatar_max_bytes=1000))
    with TestClient(app) as client:
        big = png_bytes((500, 500), "white") + b"\0" * 1000
        response = client.post(
            "/users/register",
            data={"username": "erin", "email": "erin@example.com", "password": PASSWORD},
            files={"avatar": ("big.png", big, "image/png")},
        )
        assert response.status_code == 413
        assert response.json() == {"detail": "Avatar must be at most 1000 bytes"}
        # Nothing was created.
        login = client.post("/auth/token", data={"username": "erin", "password": PASSWORD})
        assert login.status_code == 401


@pytest.mark.parametrize(
    ("filename", "content", "content_type", "detail"),
    [
        (
            "a.gif",
            b"GIF89a....",
            "image/gif",
            "Avatar must be one of image/jpeg, image/png, image/webp; got image/gif",
        ),
        (
            "a.txt",
            b"hello",
            "text/plain",
            "Avatar must be one of image/jpeg, image/png, image/webp; got text/plain",
        ),
        ("a.png", b"%PDF-1.7 not a png", "image/png", "Avatar content is not image/png"),
    ],
)
def test_avatar_wrong_type_is_415(
    client: TestClient, filename: str, content: bytes, content_type: str, detail: str
) -> None:
    response = client.post(
        "/users/register",
        data={"username": "fred", "email": "fred@example.com", "password": PASSWORD},
        files={"avatar": (filename, content, content_type)},
    )
    assert response.status_code == 415
    assert response.json() == {"detail": detail}


def test_register_validation_and_conflicts(shop: Shop, client: TestClient) -> None:
    def register(**data: str) -> Any:
        body = {"username": "gina", "email": "gina@example.com", "password": PASSWORD, **data}
        return client.post("/users/register", data=body)

    short = register(password="short")
    assert short.status_code == 422 and short.json()["detail"][0]["loc"] == ["body", "password"]
    bad_email = register(email="not-an-email")
    assert bad_email.status_code == 422
    assert bad_email.json()["detail"][0]["loc"] == ["body", "email"]
    bad_name = register(username="no spaces!")
    assert bad_name.status_code == 422
    assert bad_name.json()["detail"][0]["loc"] == ["body", "username"]

    assert register().status_code == 201
    for again in (register(), register(email="other@example.com"), register(username="gina2")):
        assert again.status_code == 409
        assert again.json() == {"detail": "Username or e-mail already taken"}


def test_email_sender_is_pluggable(app: Hasten) -> None:
    sent: list[Email] = []

    class FakeSender:
        async def send(self, email: Email) -> None:
            sent.append(email)

    class BrokenSender:
        async def send(self, email: Email) -> None:
            raise ConnectionError("SMTP server said no")

    with TestClient(app) as client:
        app.dependency_overrides[get_email_sender] = FakeSender
        shop = Shop(client)
        created = shop.register("hank")
        assert shop.task(created["task_id"])["state"] == "succeeded"
        assert [(e.recipient, e.subject) for e in sent] == [
            ("hank@example.com", "Welcome to the Hasten Shop")
        ]
        # The fake replaced the outbox: nothing was stored there.
        assert client.get("/users/me/emails", headers=shop.auth("hank")).json() == []

        app.dependency_overrides[get_email_sender] = BrokenSender
        ivan = shop.register("ivan")
        failed = shop.task(ivan["task_id"])
        assert failed["state"] == "failed"
        assert failed["error"] == "StepFailed: welcome_email: ConnectionError: SMTP server said no"
        # The avatar step still ran.
        assert client.get(f"/users/{ivan['user']['id']}/avatar").status_code == 200
        app.dependency_overrides.clear()


def test_unknown_task_and_avatar_are_404(client: TestClient) -> None:
    assert client.get("/tasks/nope").status_code == 404
    assert client.get("/tasks/nope").json() == {"detail": "Task not found"}
    assert client.get("/users/999/avatar").json() == {"detail": "Avatar not found"}


def test_login_and_me(shop: Shop, client: TestClient) -> None:
    shop.register("jane")
    token = client.post("/auth/token", data={"username": "jane", "password": PASSWORD}).json()
    assert token["token_type"] == "bearer" and token["expires_in"] == 1800
    claims = jwt.decode(
        token["access_token"],
        SECRET,
        algorithms=["HS256"],
        audience="hasten-shop-api",
        issuer="hasten-shop",
    )
    assert claims["role"] == "customer" and claims["exp"] > claims["iat"]
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/users/me", headers=headers).json()["username"] == "jane"
    # Logging in by e-mail works too.
    assert client.post(
        "/auth/token", data={"username": "jane@example.com", "password": PASSWORD}
    ).is_success


def test_wrong_password_is_401(shop: Shop, client: TestClient) -> None:
    shop.register("kim")
    for username, password in (("kim", "wrong-password"), ("nobody", PASSWORD)):
        response = client.post("/auth/token", data={"username": username, "password": password})
        assert response.status_code == 401
        assert response.json() == {"detail": "Incorrect username or password"}
        assert response.headers["www-authenticate"] == "Bearer"
    assert client.post("/auth/token", data={"username": "kim"}).status_code == 422


def _token(key: str = SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    """A token like the app's, with ``claims`` changed (``None`` removes a claim)."""
    now = datetime.now(UTC)
    payload: dict[str, Any] = {
        "sub": "1",
        "iss": "hasten-shop",
        "aud": "hasten-shop-api",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        **claims,
    }
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm)


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        (None, "Not authenticated"),
        ("garbage", "Could not validate credentials"),
        (_token(exp=datetime.now(UTC) - timedelta(minutes=1)), "Token has expired"),
        (_token(aud="someone-else"), "Could not validate credentials"),
        (_token(iss="someone-else"), "Could not validate credentials"),
        (_token(key="another-secret-" + "y" * 60), "Could not validate credentials"),
        (_token(sub="999"), "Could not validate credentials"),
        (_token(sub="not-a-number"), "Could not validate credentials"),
        (_token(algorithm="HS512"), "Could not validate credentials"),
        (_token(exp=None), "Could not validate credentials"),
    ],
)
def test_bad_tokens_are_401(client: TestClient, token: str | None, detail: str) -> None:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    response = client.get("/users/me", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert response.headers["www-authenticate"] == "Bearer"


def test_unsigned_token_is_401(client: TestClient) -> None:
    header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}
    body = jwt.utils.base64url_encode(
        b'{"sub":"1","iss":"hasten-shop","aud":"hasten-shop-api","iat":1,"exp":9999999999}'
    ).decode()
    response = client.get("/users/me", headers={"Authorization": f"Bearer {header}.{body}."})
    assert response.status_code == 401


def test_admin_lists_users_and_sets_roles(shop: Shop, client: TestClient) -> None:
    customer = shop.user("leo")
    admin = shop.admin()
    listing = client.get("/users", headers=admin).json()
    assert [u["username"] for u in listing["items"]] == [ADMIN[0], "leo"]
    assert listing["total"] == 2
    assert client.get("/users", headers=customer).status_code == 403
    assert client.get("/users").status_code == 401

    leo_id = listing["items"][1]["id"]
    bad_role = client.patch(f"/users/{leo_id}/role", json={"role": "king"}, headers=admin)
    assert bad_role.status_code == 422
    assert client.patch("/users/999/role", json={"role": "staff"}, headers=admin).status_code == 404
    assert (
        client.patch(f"/users/{leo_id}/role", json={"role": "staff"}, headers=customer).status_code
        == 403
    )
    promoted = client.patch(f"/users/{leo_id}/role", json={"role": "staff"}, headers=admin)
    assert promoted.json()["role"] == "staff"


def test_task_status_while_running(app: Hasten) -> None:
    """The registration answers 201 at once; while the e-mail step waits, the queue's record
    says ``running`` (first attempt), then ``succeeded`` with each step's outcome."""
    release = anyio.Event()
    entered = threading.Event()

    class SlowSender:
        async def send(self, email: Email) -> None:
            entered.set()
            await release.wait()

    with TestClient(app) as client:
        app.dependency_overrides[get_email_sender] = SlowSender
        assert client.portal is not None
        shop = Shop(client)
        task_id = shop.register("olga")["task_id"]
        assert entered.wait(timeout=30), "the task never started"
        task = client.get(f"/tasks/{task_id}").json()
        assert (task["state"], task["attempts"], task["result"]) == ("running", 1, None)
        assert task["started_at"] is not None and task["finished_at"] is None
        client.portal.call(release.set)
        done = shop.task(task_id)
        assert done["state"] == "succeeded"
        assert [(s["name"], s["status"]) for s in done["result"]] == [
            ("welcome_email", "done"),
            ("avatar", "done"),
        ]
        app.dependency_overrides.clear()


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept one message (no TLS, no auth)."""

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._reply("220 test-smtp ready")
        while line := self.rfile.readline():
            command = line.decode().strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self._reply("250 test-smtp")
            elif command == "DATA":
                self._reply("354 end with <CRLF>.<CRLF>")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = self.rfile.readline()
                    if not chunk:
                        return
                    data += chunk
                self.server.messages.append(data[:-5])  # type: ignore[attr-defined]
                self._reply("250 queued")
            elif command == "QUIT":
                self._reply("221 bye")
                return
            else:  # MAIL FROM, RCPT TO, RSET, NOOP
                self._reply("250 ok")


def test_smtp_sender_when_configured(make_settings: Any) -> None:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        settings = make_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
        with TestClient(create_app(settings)) as client:
            shop = Shop(client)
            created = shop.register("paul")
            assert shop.task(created["task_id"])["state"] == "succeeded"
            assert client.get("/users/me/emails", headers=shop.auth("paul")).json() == []
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    [raw] = server.messages  # type: ignore[attr-defined]
    message = email.message_from_bytes(raw)
    assert message["To"] == "paul@example.com"
    assert message["From"] == "shop@shop.example"
    assert message["Subject"] == "Welcome to the Hasten Shop"
    assert "Hello paul" in message.get_payload()


def test_replace_avatar_errors(shop: Shop, client: TestClient) -> None:
    image = {"avatar": ("a.png", png_bytes((8, 8)), "image/png")}
    assert client.put("/users/me/avatar", files=image).status_code == 401
    headers = shop.user("quinn")
    wrong = client.put(
        "/users/me/avatar", files={"avatar": ("a.txt", b"hi", "text/plain")}, headers=headers
    )
    assert wrong.status_code == 415
    missing = client.put("/users/me/avatar", headers=headers)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "avatar"]


def test_me_is_not_a_user_id(shop: Shop, client: TestClient) -> None:
    """``/users/{user_id:int}/...``: ``/users/me/avatar`` is its own path (PUT only), so GET
    there is 405 naming PUT, not a 422 about ``user_id`` (schemathesis found the 422); the
    OpenAPI document keeps FastAPI's ``/users/{user_id}/avatar``."""
    response = client.get("/users/me/avatar")
    assert response.status_code == 405
    assert response.headers["allow"] == "PUT"
    assert response.json() == {"detail": "Method Not Allowed"}
    paths = client.get("/openapi.json").json()["paths"]
    assert "/users/{user_id}/avatar" in paths and "/users/{user_id}/role" in paths
