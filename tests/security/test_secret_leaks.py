"""The shop never shows its secrets: not in answers, not in the OpenAPI document, not in logs.

Proves, on the shop (SQLite, a random JWT secret, the admin's password set): across a session of
successful and failing requests — wrong passwords, a login form without a username, a
registration refused for another field, 401/403/404/405/422 answers with a valid bearer token,
the docs and the OpenAPI document — no response body or header contains the JWT secret, the
admin's password, a user's password or a bearer token that the client did not just receive
from ``/auth/token``; and no log record (message or traceback, any logger, DEBUG and up) contains
the JWT secret, a password or a bearer token.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pytest
from shop_support import ADMIN, PASSWORD, Shop


def _log_text(records: list[logging.LogRecord]) -> str:
    parts = []
    for record in records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(parts)


def test_no_secret_in_answers_or_logs(
    shop: Shop, shop_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = shop.client
    secret = shop_settings.jwt_secret
    answers: list[Any] = []

    def keep(response: Any) -> Any:
        answers.append(response)
        return response

    # Wrong passwords (known and unknown user), a form without a username.
    wrong = keep(client.post("/auth/token", data={"username": ADMIN[0], "password": PASSWORD}))
    assert wrong.status_code == 401
    assert (
        keep(
            client.post("/auth/token", data={"username": "nobody", "password": ADMIN[1]})
        ).status_code
        == 401
    )
    assert keep(client.post("/auth/token", data={"password": ADMIN[1]})).status_code == 422
    # A registration refused for its e-mail: the (valid) password is not echoed.
    refused = keep(
        client.post(
            "/users/register",
            data={"username": "eve", "email": "not-an-email", "password": PASSWORD},
        )
    )
    assert refused.status_code == 422
    # Answers for a signed-in user: success and each kind of refusal.
    shop.register("eve")
    issued = shop.token("eve")
    headers = {"Authorization": f"Bearer {issued}"}
    for method, path in [
        ("GET", "/users/me"),
        ("GET", "/users"),  # 403
        ("GET", "/products/999999"),  # 404
        ("PUT", "/users/me"),  # 405
        ("GET", "/orders/abc"),  # 422
        ("GET", "/users/me/emails"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
    ]:
        keep(client.request(method, path, headers=headers))
    admin = shop.admin()
    keep(client.get("/users", headers=admin))
    keep(client.get("/metrics", headers=admin))
    for response in answers:
        where = f"{response.request.method} {response.request.url.path}"
        exposed = response.text + repr(dict(response.headers))
        assert secret not in exposed, where
        assert ADMIN[1] not in exposed, where
        assert PASSWORD not in exposed, where
        assert issued not in exposed, where
    logged = _log_text(caplog.records)
    assert caplog.records, "the session wrote no log record at all: nothing was checked"
    for value in (secret, ADMIN[1], PASSWORD, issued, admin["Authorization"].split()[1]):
        assert value not in logged
