"""JWT attacks on the reference shop: every forged, stale or malformed credential is refused.

Proves, on the shop built from its public ``create_app(Settings)`` (SQLite, a random secret),
that each attack below answers 401 in FastAPI's error shape (``{"detail": <str>}`` with
``WWW-Authenticate: Bearer``) on an authenticated endpoint (``GET /users/me``) and on an
admin-only one (``GET /users``) — never 200 and never a 5xx: ``alg: none`` (all spellings,
with and without a signature), HS/RS confusion (RS256/ES256/PS256 headers, HS256 signed with a
public key's PEM, HS384/HS512 with the real secret), a wrong secret, expired and not-yet-valid
tokens, wrong or missing audience/issuer, each required claim missing, non-object payloads,
tampered payloads (role, subject) and signatures, a subject that is not a user id, ``kid``/
``jku``/``jwk`` header injection, garbage and truncated tokens, and tokens in the wrong
scheme or place (Basic, Token, no scheme, a tab, a cookie, the query string). A validly signed
token whose ``role`` claim says admin for a customer is refused by admin endpoints (403: the
role is read from the database), and a token of a deleted user is refused (401). The event feed (SSE) and the order chat (WebSocket,
token in the query) refuse every attack as well.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from shop_support import ADMIN, Shop
from sqlalchemy import delete
from starlette.websockets import WebSocketDisconnect

from hasten.testclient import TestClient

_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
# A public key in PEM form, as an attacker who knows the server's (supposed) RSA key would use it.
_PUBLIC_PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n"
    "4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n"
    "-----END PUBLIC KEY-----\n"
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: Any, key: bytes | None = None) -> str:
    """A compact JWS, signed by hand (HMAC) so any header/key combination can be made."""
    signing = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if key is None:
        return signing + "."
    digest = _HASHES.get(header.get("alg", ""), hashlib.sha256)
    return f"{signing}.{b64(hmac.new(key, signing.encode(), digest).digest())}"


@dataclass
class Ctx:
    """What an attacker may know: the shop's public claims, a user id, a real token."""

    secret: bytes
    iss: str
    aud: str
    user_id: int
    token: str  # a real customer token

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        values: dict[str, Any] = {
            "sub": str(self.user_id),
            "role": "customer",
            "iss": self.iss,
            "aud": self.aud,
            "iat": now,
            "exp": now + 600,
        }
        for name, value in changes.items():
            if value is _DROP:
                values.pop(name, None)
            else:
                values[name] = value
        return values

    def signed(self, **changes: Any) -> str:
        return forge({"alg": "HS256", "typ": "JWT"}, self.claims(**changes), self.secret)


_DROP = object()
H256 = {"alg": "HS256", "typ": "JWT"}


def _tamper_payload(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


def _flip_last(text: str) -> str:
    return text[:-1] + ("A" if text[-1] != "A" else "B")


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


# name -> token maker; every one must be refused with 401.
ATTACKS: dict[str, Callable[[Ctx], str]] = {
    "alg none, no signature": lambda c: forge({"alg": "none", "typ": "JWT"}, c.claims()),
    "alg None": lambda c: forge({"alg": "None"}, c.claims()),
    "alg NONE": lambda c: forge({"alg": "NONE"}, c.claims()),
    "alg nOnE": lambda c: forge({"alg": "nOnE"}, c.claims()),
    "alg none, admin role": lambda c: forge({"alg": "none"}, c.claims(role="admin", sub="1")),
    "alg none with the real token's signature": lambda c: (
        forge({"alg": "none"}, c.claims()) + c.token.rsplit(".", 1)[1]
    ),
    "alg missing": lambda c: forge({"typ": "JWT"}, c.claims(), c.secret),
    "alg empty": lambda c: forge({"alg": ""}, c.claims(), c.secret),
    "RS256 header, HMAC signature": lambda c: forge({"alg": "RS256"}, c.claims(), c.secret),
    "RS256 header, public PEM as HMAC key": lambda c: forge(
        {"alg": "RS256"}, c.claims(), _PUBLIC_PEM.encode()
    ),
    "HS256 signed with a public PEM": lambda c: forge(H256, c.claims(), _PUBLIC_PEM.encode()),
    "ES256 header": lambda c: forge({"alg": "ES256"}, c.claims(), c.secret),
    "PS256 header": lambda c: forge({"alg": "PS256"}, c.claims(), c.secret),
    "EdDSA header": lambda c: forge({"alg": "EdDSA"}, c.claims(), c.secret),
    "HS384 with the real secret": lambda c: forge({"alg": "HS384"}, c.claims(), c.secret),
    "HS512 with the real secret": lambda c: forge({"alg": "HS512"}, c.claims(), c.secret),
    "wrong secret": lambda c: forge(H256, c.claims(), b"not-the-secret"),
    "empty secret": lambda c: forge(H256, c.claims(), b""),
    "the secret with a byte changed": lambda c: forge(H256, c.claims(), _flip_last_byte(c.secret)),
    "the shipped default secret": lambda c: forge(
        H256, c.claims(), b"dev-only-secret-change-me-in-production-please"
    ),
    "expired": lambda c: c.signed(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
    "expired a second ago": lambda c: c.signed(exp=int(time.time()) - 1),
    "not yet valid (nbf)": lambda c: c.signed(nbf=int(time.time()) + 3600),
    "issued in the future": lambda c: c.signed(iat=int(time.time()) + 3600),
    "wrong audience": lambda c: c.signed(aud="another-api"),
    "audience list without ours": lambda c: c.signed(aud=["a", "b"]),
    "wrong issuer": lambda c: c.signed(iss="https://evil.example"),
    "issuer as a list": lambda c: c.signed(iss=[c.iss]),
    "no sub": lambda c: c.signed(sub=_DROP),
    "no exp": lambda c: c.signed(exp=_DROP),
    "no iat": lambda c: c.signed(iat=_DROP),
    "no aud": lambda c: c.signed(aud=_DROP),
    "no iss": lambda c: c.signed(iss=_DROP),
    "no claims": lambda c: forge(H256, {}, c.secret),
    "payload a list": lambda c: forge(H256, [c.claims()], c.secret),
    "payload null": lambda c: forge(H256, None, c.secret),
    "payload a number": lambda c: forge(H256, 1, c.secret),
    "exp a string": lambda c: c.signed(exp="never"),
    "exp null": lambda c: c.signed(exp=None),
    "sub an integer": lambda c: c.signed(sub=c.user_id),
    "sub not a number": lambda c: c.signed(sub="admin"),
    "sub an SQL injection": lambda c: c.signed(sub="1 OR 1=1"),
    "sub empty": lambda c: c.signed(sub=""),
    "sub of no user": lambda c: c.signed(sub="999999"),
    "sub negative": lambda c: c.signed(sub="-1"),
    "sub zero": lambda c: c.signed(sub="0"),
    "sub with a NUL": lambda c: c.signed(sub="1\x00"),
    "exp infinite": lambda c: c.signed(exp=float("inf")),
    "exp NaN": lambda c: c.signed(exp=float("nan")),
    "iat infinite": lambda c: c.signed(iat=float("inf")),
    "role edited in the payload": lambda c: _tamper_payload(c.token, role="admin"),
    "sub edited in the payload": lambda c: _tamper_payload(c.token, sub="1"),
    "exp edited in the payload": lambda c: _tamper_payload(c.token, exp=int(time.time()) + 10**6),
    "signature flipped": lambda c: _flip_last(c.token),
    "signature removed": lambda c: c.token.rsplit(".", 1)[0] + ".",
    "signature of another token": lambda c: (
        c.signed(role="admin").rsplit(".", 1)[0] + "." + c.token.rsplit(".", 1)[1]
    ),
    "kid injection": lambda c: forge(
        {"alg": "HS256", "kid": "../../../../dev/null"}, c.claims(role="admin"), b""
    ),
    "jku injection": lambda c: forge(
        {"alg": "HS256", "jku": "http://127.0.0.1:1/jwks.json"}, c.claims(), b"attacker"
    ),
    "jwk embedded": lambda c: forge(
        {"alg": "HS256", "jwk": {"kty": "oct", "k": b64(b"attacker")}}, c.claims(), b"attacker"
    ),
    "crit header": lambda c: forge({"alg": "HS256", "crit": ["exp"]}, c.claims(), b"x"),
    "empty": lambda c: "",
    "one dot": lambda c: ".",
    "two dots": lambda c: "..",
    "three parts of nothing": lambda c: "a.b.c",
    "four parts": lambda c: c.token + ".extra",
    "two parts": lambda c: c.token.rsplit(".", 1)[0],
    "truncated by one": lambda c: c.token[:-1],
    "truncated by half": lambda c: c.token[: len(c.token) // 2],
    "header only": lambda c: c.token.split(".")[0],
    "not base64": lambda c: "!!!.$$$.%%%",
    "non-ascii": lambda c: "é.ü.ß",
    "json in clear": lambda c: json.dumps(c.claims()),
    "JWE-shaped (five parts)": lambda c: "a.b.c.d.e",
    "very long": lambda c: "A" * 7000 + "." + "B" * 7000 + "." + "C" * 100,
    "token repeated": lambda c: c.token + c.token,
    "token with spaces": lambda c: c.token.replace(".", " . "),
}


def _ctx(shop: Shop, settings: Any) -> Ctx:
    created = shop.register("mallory")
    token = shop.token("mallory")
    return Ctx(
        secret=settings.jwt_secret.encode(),
        iss=settings.jwt_issuer,
        aud=settings.jwt_audience,
        user_id=created["user"]["id"],
        token=token,
    )


def _assert_refused(response: Any, where: str, status: int = 401) -> None:
    assert response.status_code == status, (where, response.status_code, response.text)
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str), (where, body)
    if status == 401:
        assert response.headers.get("www-authenticate") == "Bearer", where


def test_every_attack_is_refused(shop: Shop, shop_settings: Any) -> None:
    ctx = _ctx(shop, shop_settings)
    client = shop.client
    # The real token works: the refusals below are the tokens', not a broken setup.
    assert client.get("/users/me", headers={"Authorization": f"Bearer {ctx.token}"}).json()[
        "username"
    ] == ("mallory")
    assert len(ATTACKS) >= 70
    for name, make in ATTACKS.items():
        token = make(ctx)
        headers = {"Authorization": f"Bearer {token}".encode()}  # bytes: non-ASCII as sent
        for path in ("/users/me", "/users"):
            _assert_refused(client.get(path, headers=headers), f"{name} on {path}")


def test_every_attack_is_refused_by_the_streams(shop: Shop, shop_settings: Any) -> None:
    """The SSE feed (401) and the order chat (closed 1008 before accepting) refuse them too:
    both resolve the token on their own path (no database session held open)."""
    ctx = _ctx(shop, shop_settings)
    client = shop.client
    product = shop.product(shop.admin(), sku="CUP-00077")
    placed = client.post(
        "/orders",
        json={"items": [{"product_id": product["id"], "quantity": 1}]},
        headers={"Authorization": f"Bearer {ctx.token}"},
    )
    assert placed.status_code == 201, placed.text
    chat = f"/orders/{placed.json()['id']}/chat"
    # The real token is let into the chat: the refusals below are the tokens'.
    with client.websocket_connect(f"{chat}?token={quote(ctx.token)}") as ws:
        assert ws.receive_json() == {"type": "join", "user": "mallory"}
    for name, make in ATTACKS.items():
        token = make(ctx)
        feed = client.get("/orders/events", headers={"Authorization": f"Bearer {token}".encode()})
        _assert_refused(feed, f"{name} on the event feed")
        with pytest.raises(WebSocketDisconnect) as closed:
            with client.websocket_connect(f"{chat}?token={quote(token)}") as ws:
                ws.receive_text()
        assert closed.value.code == 1008, name


WRONG_PLACES: dict[str, Callable[[str], dict[str, Any]]] = {
    "Basic scheme": lambda t: {"headers": {"Authorization": f"Basic {t}"}},
    "Token scheme": lambda t: {"headers": {"Authorization": f"Token {t}"}},
    "JWT scheme": lambda t: {"headers": {"Authorization": f"JWT {t}"}},
    "no scheme": lambda t: {"headers": {"Authorization": t}},
    "scheme only": lambda t: {"headers": {"Authorization": "Bearer"}},
    "scheme and a space": lambda t: {"headers": {"Authorization": "Bearer "}},
    "tab after the scheme": lambda t: {"headers": {"Authorization": f"Bearer\t{t}"}},
    "Bearer glued": lambda t: {"headers": {"Authorization": f"Bearer{t}"}},
    "two schemes": lambda t: {"headers": {"Authorization": f"Basic x, Bearer {t}"}},
    "other header": lambda t: {"headers": {"X-Access-Token": t}},
    "Proxy-Authorization": lambda t: {"headers": {"Proxy-Authorization": f"Bearer {t}"}},
    "cookie": lambda t: {"cookies": {"access_token": t}},
    "query string": lambda t: {"params": {"access_token": t}},
    "basic credentials of the admin": lambda t: {
        "headers": {
            "Authorization": "Basic " + base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode()
        }
    },
}


def test_a_real_token_in_the_wrong_place_is_refused(shop: Shop) -> None:
    client = shop.client
    token = shop.token(*ADMIN)
    assert client.get("/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    for name, where in WRONG_PLACES.items():
        options = where(token)
        cookies = options.pop("cookies", None)
        client.cookies.clear()
        if cookies:
            client.cookies.update(cookies)
        for path in ("/users/me", "/users"):
            _assert_refused(client.get(path, **options), f"{name} on {path}")
    client.cookies.clear()


def test_role_claim_is_not_trusted(shop: Shop, shop_settings: Any) -> None:
    """Even validly signed (e.g. a token issued before a demotion), the role comes from the DB."""
    ctx = _ctx(shop, shop_settings)
    client = shop.client
    token = ctx.signed(role="admin")
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/users/me", headers=headers)
    assert me.status_code == 200 and me.json()["role"] == "customer"
    _assert_refused(client.get("/users", headers=headers), "role admin in claims", 403)
    refused = client.patch(f"/users/{ctx.user_id}/role", json={"role": "admin"}, headers=headers)
    _assert_refused(refused, "self-promotion", 403)
    product = {
        "sku": "CUP-00009",
        "name": "Cup",
        "description": "A cup for the attack tests.",
        "price": "1.00",
        "stock": 1,
    }
    _assert_refused(client.post("/products", json=product, headers=headers), "create", 403)
    # A staff token whose claim says admin cannot delete (admin only).
    staff = shop.user("sam", role="staff")
    created = client.post("/products", json=product, headers=staff)
    assert created.status_code == 201, created.text
    staff_id = client.get("/users/me", headers=staff).json()["id"]
    forged = {"Authorization": f"Bearer {ctx.signed(sub=str(staff_id), role='admin')}"}
    deleted = client.delete(f"/products/{created.json()['id']}", headers=forged)
    _assert_refused(deleted, "staff deleting", 403)


def test_token_of_a_deleted_user_is_refused(shop: Shop, shop_settings: Any, shop_app: Any) -> None:
    from examples.shop.models import User

    ctx = _ctx(shop, shop_settings)
    client = shop.client
    headers = {"Authorization": f"Bearer {ctx.token}"}
    assert client.get("/users/me", headers=headers).status_code == 200

    async def remove() -> None:
        async with shop_app.state.write_sessionmaker() as session:
            await session.execute(delete(User).where(User.id == ctx.user_id))
            await session.commit()

    client.portal.call(remove)  # type: ignore[union-attr]
    for path in ("/users/me", "/users", "/orders"):
        _assert_refused(client.get(path, headers=headers), f"deleted user on {path}")


def test_token_of_a_deleted_user_does_not_sign_in_as_the_next_one(
    shop: Shop, shop_settings: Any, shop_app: Any
) -> None:
    """SQLite gives a deleted last user's id to the next registration; the token's account claim
    (the account's creation time) is what the newcomer cannot share, so the stale token is 401."""
    from examples.shop.models import User

    ctx = _ctx(shop, shop_settings)
    client = shop.client

    async def remove() -> None:
        async with shop_app.state.write_sessionmaker() as session:
            await session.execute(delete(User).where(User.id == ctx.user_id))
            await session.commit()

    client.portal.call(remove)  # type: ignore[union-attr]
    shop.register("newcomer")
    stale = client.get("/users/me", headers={"Authorization": f"Bearer {ctx.token}"})
    _assert_refused(stale, "a deleted user's token after a new registration")


# Validly signed (so only with the secret): a subject beyond the id column's range must be a
# 401 like any unknown subject, not a database overflow.
OUT_OF_RANGE_SUBJECTS = [str(2**63), str(2**31), "9" * 400]


def test_subject_beyond_the_id_range_is_refused(shop: Shop, shop_settings: Any) -> None:
    ctx = _ctx(shop, shop_settings)
    for sub in OUT_OF_RANGE_SUBJECTS:
        headers = {"Authorization": f"Bearer {ctx.signed(sub=sub)}"}
        _assert_refused(shop.client.get("/users/me", headers=headers), f"sub={sub[:20]}")


@pytest.mark.parametrize("path", ["/users/me", "/orders"])
def test_no_credentials(shop_client: TestClient, path: str) -> None:
    response = shop_client.get(path)
    _assert_refused(response, path)
    assert response.json() == {"detail": "Not authenticated"}
