"""Schema-driven fuzzing of the shop (schemathesis, in-process over ASGI).

Proves, for every operation of the shop's OpenAPI document, with requests generated from the
document itself (valid ones and ones that break the schema), sent without a token and with an
admin token: no answer is a 5xx; every answer's status is one the operation documents, its
content type is the documented one and its body matches the documented schema; and an undeclared
method on every documented path answers 405 with an ``Allow`` header naming only methods
declared for that path, in FastAPI's error shape. Bounded: ``SHOP_FUZZ_EXAMPLES`` cases per
operation, mode and token (default 12), derandomised. ``scripts/fuzz`` runs the same checks
against a real uvicorn with many more cases.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from shop_support import ADMIN

from hasten import Hasten

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import checks as _checks  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.python import asgi  # noqa: E402
from schemathesis.specs.openapi import checks as _openapi_checks  # noqa: E402

EXAMPLES = int(os.environ.get("SHOP_FUZZ_EXAMPLES", "12"))
CHECKS = [
    _checks.not_a_server_error,
    _openapi_checks.status_code_conformance,
    _openapi_checks.content_type_conformance,
    _openapi_checks.response_schema_conformance,
]
METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "TRACE")


class Shop:
    """The shop app, its schemathesis schema and an admin token (one per module)."""

    def __init__(self, tmp: Path) -> None:
        from examples.shop.main import create_app
        from examples.shop.settings import Settings

        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{tmp / 'shop.db'}",
            redis_url=None,
            media_dir=tmp / "media",
            jwt_secret=secrets.token_urlsafe(64),
            argon2_time_cost=1,
            argon2_memory_cost=1024,
            rate_limit_per_minute=10**9,
            admin_username=ADMIN[0],
            admin_password=ADMIN[1],
            smtp_host=None,
        )
        self.app: Hasten = create_app(settings)
        # schemathesis starts the app's lifespan on first use and keeps it for the process.
        self.schema = schemathesis.openapi.from_asgi("/openapi.json", self.app)
        self.document: dict[str, Any] = self.schema.raw_schema
        with asgi.get_client(self.app) as client:
            response = client.post(
                "http://testserver/auth/token",
                data={"username": ADMIN[0], "password": ADMIN[1]},
            )
            assert response.status_code == 200, response.text
            self.admin = {"Authorization": f"Bearer {response.json()['access_token']}"}
        self.operations = {
            op.label: op for op in (r.ok() for r in self.schema.get_all_operations())
        }


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    yield Shop(tmp_path_factory.mktemp("fuzz-shop"))


def _labels() -> list[str]:
    """The operations, read from the shop's document (without starting the app)."""
    from examples.shop.main import create_app
    from examples.shop.settings import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url="sqlite+aiosqlite:///:memory:",  # never opened: no lifespan runs here
        jwt_secret=secrets.token_urlsafe(64),
        redis_url=None,
    )
    document = create_app(settings).openapi()
    return [f"{m.upper()} {p}" for p, item in document["paths"].items() for m in item]


LABELS = _labels()


def _undocumented(failure: BaseException) -> int | None:
    text = str(failure)
    if "Undocumented status code" not in text:
        return None
    match = re.search(r"Received: (\d+)", text)
    return int(match.group(1)) if match else None


def _failures(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [f for e in error.exceptions for f in _failures(e)]
    return [error]


class Outcome:
    """What the generated cases of one operation got."""

    def __init__(self) -> None:
        self.cases = 0
        self.statuses: dict[int, int] = {}
        self.undocumented: set[int] = set()
        self.other: list[str] = []


def _fuzz(
    operation: Any, headers: dict[str, str] | None, mode: Any, timeout: float, out: Outcome
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        out.cases += 1
        try:
            response = case.call(headers=headers, timeout=timeout)
        except requests.exceptions.ReadTimeout:
            # A stream that had not even started its answer (a loaded machine): wait longer.
            response = case.call(headers=headers, timeout=10.0)
        out.statuses[response.status_code] = out.statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (case.as_curl_command(), response.text)
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as error:  # schemathesis raises a BaseExceptionGroup
            for failure in _failures(error):
                status = _undocumented(failure)
                if status is not None:
                    out.undocumented.add(status)
                else:
                    out.other.append(f"{case.as_curl_command()}\n{failure}")

    try:
        run()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing to break: the operation takes nothing


@pytest.mark.timeout(120)
@pytest.mark.parametrize("label", LABELS)
def test_operation(shop: Shop, label: str) -> None:
    operation = shop.operations[label]
    stream = "text/event-stream" in str(operation.definition.raw.get("responses", {}))
    timeout = 0.3 if stream else 30.0  # an event stream keeps what it sent by then
    out = Outcome()
    for headers in (None, shop.admin):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, headers, mode, timeout, out)
    assert out.cases > 0
    assert not [s for s in out.statuses if s >= 500], out.statuses
    assert out.other == [], "\n\n".join(out.other[:3])
    assert out.undocumented == set(), f"{label} answers undocumented {sorted(out.undocumented)}"


def _integer_path_params(item: dict[str, Any]) -> set[str]:
    return {
        p["name"]
        for operation in item.values()
        for p in operation.get("parameters", ())
        if p["in"] == "path" and p.get("schema", {}).get("type") == "integer"
    }


def _declared_for(document: dict[str, Any], url: str) -> set[str]:
    """Every method declared by a documented path that ``url`` matches (an integer path
    parameter, declared ``{user_id:int}``, matches digits only: /users/me/avatar is not
    /users/{user_id}/avatar)."""
    methods: set[str] = set()
    for path, item in document["paths"].items():
        integers = _integer_path_params(item)
        pattern = "".join(
            ("[0-9]+" if part[1:-1] in integers else "[^/]+")
            if part.startswith("{")
            else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", path)
        )
        if re.fullmatch(pattern, url):
            methods |= {m.upper() for m in item}
    return methods


def test_undeclared_methods_answer_405(shop: Shop) -> None:
    from hasten.testclient import TestClient

    checked: dict[str, int] = {}
    with TestClient(shop.app) as client:
        for path in shop.document["paths"]:
            url = re.sub(r"\{[^}]+\}", "1", path)
            declared = _declared_for(shop.document, url)
            checked[path] = 0
            for method in METHODS:
                if method in declared:
                    continue
                response = client.request(method, url)
                where = f"{method} {url}"
                assert response.status_code == 405, (where, response.status_code, response.text)
                assert response.json() == {"detail": "Method Not Allowed"}, where
                allow = {m.strip() for m in response.headers["allow"].split(",")}
                assert allow and allow <= declared, (where, allow, declared)
                checked[path] += 1
    # Every documented path had undeclared methods to try (none declares all of METHODS).
    assert len(checked) >= 10 and all(checked.values()), checked


def test_allow_lists_every_declared_method(shop: Shop) -> None:
    from hasten.testclient import TestClient

    with TestClient(shop.app) as client:
        for path in shop.document["paths"]:
            url = re.sub(r"\{[^}]+\}", "1", path)
            declared = _declared_for(shop.document, url)
            response = client.request("TRACE", url)
            allow = {m.strip() for m in response.headers["allow"].split(",")}
            assert allow == declared, (path, allow, declared)
