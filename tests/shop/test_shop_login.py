"""Finding 6 of issue 14: logging in leaks no usernames, is brute-force limited, and bounds
the argon2 work it runs at once.

The hash work is counted (calls of the hasher), never timed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio
import httpx
import pytest
from pwdlib import PasswordHash
from shop_support import PASSWORD, Shop

from examples.shop.main import create_app
from hasten.testclient import TestClient


@pytest.fixture
def verify_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 verification the app runs records the hash it checked against."""
    calls: list[str] = []
    original = PasswordHash.verify

    def verify(self: PasswordHash, password: str, hash: str) -> bool:
        calls.append(hash)
        return original(self, password, hash)

    monkeypatch.setattr(PasswordHash, "verify", verify)
    return calls


def _login(client: TestClient, username: str, password: str) -> httpx.Response:
    return client.post("/auth/token", data={"username": username, "password": password})


def test_unknown_user_costs_the_same_hash_work(
    shop: Shop, client: TestClient, verify_calls: list[str]
) -> None:
    """The attack: an unknown username answered in ~2 ms, a wrong password in ~111 ms (no hash
    was computed for unknown users). Now both run exactly one argon2 verification."""
    shop.register("frank")
    verify_calls.clear()
    unknown = _login(client, "nobody-here", "wrong-password")
    assert unknown.status_code == 401
    assert len(verify_calls) == 1
    assert verify_calls[0].startswith("$argon2id$")  # a real hash, with the same parameters
    wrong = _login(client, "frank", "wrong-password")
    assert wrong.status_code == 401
    assert len(verify_calls) == 2
    assert unknown.json() == wrong.json() == {"detail": "Incorrect username or password"}


def test_guessing_one_accounts_password_is_limited(make_settings: Any) -> None:
    """The attack: 150 guesses of one account's password, none refused. Now the account takes
    ``login_attempts_per_username`` attempts per window (from any address), then 429."""
    settings = make_settings(login_attempts_per_username=3, login_attempts_per_client=1000)
    with TestClient(create_app(settings)) as client:
        Shop(client).register("grace")
        Shop(client).register("heidi")
        assert [_login(client, "grace", f"guess-{n}").status_code for n in range(3)] == [401] * 3
        refused = _login(client, "GRACE", PASSWORD)  # even the right one, in any case
        assert refused.status_code == 429
        assert refused.json() == {"detail": "Too many login attempts for this account"}
        assert 1 <= int(refused.headers["retry-after"]) <= 300
        assert _login(client, "heidi", PASSWORD).status_code == 200  # other accounts unaffected

        async def from_elsewhere() -> int:
            transport = httpx.ASGITransport(app=client.app, client=("10.7.7.7", 4000))
            async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:
                data = {"username": "grace", "password": PASSWORD}
                return (await http.post("/auth/token", data=data)).status_code

        assert client.portal is not None
        assert client.portal.call(from_elsewhere) == 429


def test_one_client_guessing_many_accounts_is_limited(make_settings: Any) -> None:
    settings = make_settings(login_attempts_per_username=1000, login_attempts_per_client=4)
    with TestClient(create_app(settings)) as client:
        statuses = [_login(client, f"user{n}", "guess").status_code for n in range(4)]
        assert statuses == [401] * 4
        refused = _login(client, "user9", "guess")
        assert refused.status_code == 429
        assert refused.json() == {"detail": "Too many login attempts from this address"}
        assert "retry-after" in refused.headers


def test_concurrent_logins_run_at_most_the_bound_of_argon2_at_once(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack: 40 concurrent wrong-password logins took the server to ~1 GiB (each argon2
    computation holds ``argon2_memory_cost``). Bound: ``password_hash_concurrency`` (2 here)
    computations at once, whatever the number of concurrent logins (16)."""
    settings = make_settings(password_hash_concurrency=2)
    app = create_app(settings)
    active = peak = 0
    lock = threading.Lock()
    original = PasswordHash.verify

    def verify(self: PasswordHash, password: str, hash: str) -> bool:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            time.sleep(0.02)  # hold the slot a little, so that logins overlap
            return original(self, password, hash)
        finally:
            with lock:
                active -= 1

    with TestClient(app) as client:
        names = [f"conc{n}" for n in range(8)]
        for name in names:
            Shop(client).register(name)
        monkeypatch.setattr(PasswordHash, "verify", verify)

        async def storm() -> list[int]:
            statuses: list[int] = []
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:

                async def login(username: str) -> None:
                    data = {"username": username, "password": "wrong-password"}
                    statuses.append((await http.post("/auth/token", data=data)).status_code)

                async with anyio.create_task_group() as group:
                    for name in names + [f"ghost{n}" for n in range(8)]:
                        group.start_soon(login, name)
            return statuses

        assert client.portal is not None
        statuses = client.portal.call(storm)
    assert statuses == [401] * 16
    assert peak == 2
