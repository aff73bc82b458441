"""Unit tests of the differential harness's comparer and probe helpers (diff/, scripts/diff).

The harness itself runs two interpreters; these tests only exercise its pure parts, loaded from
``diff/`` without importing FastAPI.
"""

import json
import random
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

DIFF = Path(__file__).resolve().parent.parent / "diff"
_NAMES = ("harness", "probelib", "gen_params_under_test")


@pytest.fixture()
def mods(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, ModuleType]]:
    import importlib.util

    monkeypatch.syspath_prepend(str(DIFF))
    for name in _NAMES:
        sys.modules.pop(name, None)
    loaded: dict[str, ModuleType] = {}
    for name, path in (
        ("harness", DIFF / "harness.py"),
        ("probelib", DIFF / "probelib.py"),
        ("gen_params_under_test", DIFF / "probes" / "gen_params.py"),
    ):
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        if name == "gen_params_under_test":
            loaded["probelib"].REGISTRY.clear()
        spec.loader.exec_module(module)
        loaded[name] = module
    yield loaded
    for name in _NAMES:
        sys.modules.pop(name, None)


def _response(status: int, body: str, headers: list[list[str]] | None = None) -> dict[str, Any]:
    return {
        "request": "GET /",
        "status": status,
        "headers": headers or [["content-type", "application/json"]],
        "body": {"text": body},
    }


def _record(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "p", "steps": list(steps), "warnings": [], **extra}


def _exc(tp: str, message: str, mro: list[str] | None = None) -> dict[str, Any]:
    return {"type": tp, "module": "m", "mro": mro or [tp, "Exception"], "message": message}


def test_identical_records_have_no_findings(mods: dict[str, ModuleType]) -> None:
    h = mods["harness"]
    rec = _record(_response(200, '{"a":1}'), openapi={"paths": {"/": {}}})
    assert h.compare(rec, json.loads(json.dumps(rec)), 200).findings == []


def test_status_body_and_headers_are_reported_by_cause(mods: dict[str, ModuleType]) -> None:
    h = mods["harness"]
    fa = _record(_response(422, '{"detail":[{"loc":["query","q"]}]}'))
    hs = _record(
        _response(500, '{"detail":[{"loc":["body","q"]}]}', [["content-type", "text/plain"]])
    )
    c = h.compare(fa, hs, 200)
    assert c.causes() == ["body", "headers", "status"]
    lines = "\n".join(c.lines())
    assert "status FastAPI 422 | Hasten 500" in lines
    assert "$.detail[0].loc[0]: FastAPI query | Hasten body" in lines


def test_normalised_headers_date_cookie_expiry_and_order(mods: dict[str, ModuleType]) -> None:
    h = mods["harness"]
    a = [["date", "Mon"], ["set-cookie", "a=1; expires=Mon, 01 Jan; Max-Age=60"], ["x", "1"]]
    b = [["x", "1"], ["set-cookie", "a=1; expires=Tue, 02 Jan; Max-Age=60"], ["date", "Tue"]]
    assert h.norm_headers(a) == h.norm_headers(b)
    # repeated headers keep their relative order
    assert h.norm_headers([["v", "1"], ["v", "2"]]) != h.norm_headers([["v", "2"], ["v", "1"]])
    # anything else is compared as is
    assert h.norm_headers([["x", "1"]]) != h.norm_headers([["x", "2"]])


def test_memory_addresses_are_normalised(mods: dict[str, ModuleType]) -> None:
    h = mods["harness"]
    fa = _record(_response(200, '"<object at 0x7f00aa11bb22>"'))
    hs = _record(_response(200, '"<object at 0x7f99cc33dd44>"'))
    assert h.compare(fa, hs, 200).findings == []


def test_openapi_key_order_counts(mods: dict[str, ModuleType]) -> None:
    h = mods["harness"]
    fa = _record(openapi={"paths": {"/a": {}, "/b": {}}})
    hs = _record(openapi={"paths": {"/b": {}, "/a": {}}})
    c = h.compare(fa, hs, 200)
    assert c.causes() == ["openapi"]
    assert "(key order)" in c.lines()[0]


def test_same_json_value_different_bytes_is_a_body_difference(
    mods: dict[str, ModuleType],
) -> None:
    h = mods["harness"]
    c = h.compare(_record(_response(200, '{"a":1}')), _record(_response(200, '{"a": 1}')), 200)
    assert c.causes() == ["body"]
    assert "bytes" in c.lines()[0]


def test_exception_matching_rules(mods: dict[str, ModuleType]) -> None:
    h = mods["harness"]
    fa = _exc("TypeError", "bad arg")
    assert h.exc_match(fa, _exc("TypeError", "bad arg")) == "same"
    wider = _exc("ParamError", "[GET /] bad arg", ["ParamError", "HastenError", "TypeError"])
    assert h.exc_match(fa, wider) == "compatible"
    assert h.exc_match(fa, _exc("ParamError", "[GET /] bad arg", ["ParamError"])) == "differ"
    assert h.exc_match(fa, _exc("TypeError", "other")) == "differ"


def test_declaration_error_on_one_side_only(mods: dict[str, ModuleType]) -> None:
    h = mods["harness"]
    fa = {"id": "p", "declaration": _exc("TypeError", "Query() got an unexpected keyword")}
    hs = _record(_response(200, "1"), openapi={})
    c = h.compare(fa, hs, 200)
    assert c.causes() == ["declaration"]
    assert "no exception" in c.lines()[0]


def test_missing_record_is_a_runner_difference(mods: dict[str, ModuleType]) -> None:
    h = mods["harness"]
    assert h.compare(_record(), None, 200).causes() == ["runner"]


def test_repeated_findings_are_grouped_by_step(mods: dict[str, ModuleType]) -> None:
    h = mods["harness"]
    fa = _record(*[_response(200, "1") for _ in range(3)])
    hs = _record(*[_response(404, "1") for _ in range(3)])
    lines = h.compare(fa, hs, 200).lines()
    assert len(lines) == 1
    assert "(same at steps 2, 3)" in lines[0]


def test_text_delta_points_at_the_first_difference(mods: dict[str, ModuleType]) -> None:
    h = mods["harness"]
    out = h.text_delta("x" * 100 + "AAA", "x" * 100 + "BBB", 200)
    assert out.startswith("differs at char 100")
    assert "AAA" in out and "BBB" in out


def test_known_differences_need_a_reason(mods: dict[str, ModuleType], tmp_path: Path) -> None:
    h = mods["harness"]
    good = tmp_path / "good.txt"
    good.write_text("# comment\n\na.b   # intended: docs wording\n")
    assert h.load_known(str(good)) == {"a.b": "intended: docs wording"}
    bad = tmp_path / "bad.txt"
    bad.write_text("a.b\n")
    with pytest.raises(SystemExit, match="reason"):
        h.load_known(str(bad))


def test_repository_known_differences_file_parses(mods: dict[str, ModuleType]) -> None:
    h = mods["harness"]
    known = h.load_known()
    assert all(reason for reason in known.values())


def test_requirements_pin_the_shared_libraries(mods: dict[str, ModuleType]) -> None:
    h = mods["harness"]
    reqs = h.requirements({"version": "3.11", "pins": {"pydantic": "2.1.0", "starlette": "1.0"}})
    assert reqs[0].startswith("fastapi==")
    assert "pydantic==2.1.0" in reqs and "starlette==1.0" in reqs
    assert "httpx2" in reqs  # needed by the TestClient, installed unpinned when missing


def test_patch_attr_is_undone(mods: dict[str, ModuleType]) -> None:
    lib = mods["probelib"]

    class Target:
        value = 1

    lib.patch_attr(Target, "value", 2)
    lib.patch_attr(Target, "added", 3)
    assert (Target.value, Target.added) == (2, 3)  # type: ignore[attr-defined]
    lib.run_undo()
    assert Target.value == 1
    assert not hasattr(Target, "added")


def test_probe_source_does_not_inherit_future_annotations(mods: dict[str, ModuleType]) -> None:
    lib = mods["probelib"]
    p = lib.probe_source("t.src", "def f(x: int) -> str: ...\napp = f\n")
    app = p.build()
    assert app.__annotations__ == {"x": int, "return": str}


def test_generated_parameter_probes_are_deterministic(mods: dict[str, ModuleType]) -> None:
    gen = mods["gen_params_under_test"]
    lib = mods["probelib"]
    ids = [pid for pid in lib.REGISTRY if pid.startswith("gen_params.")]
    assert len(ids) == len(gen.LOCATIONS) * len(gen.VARIANTS)
    variant = gen.VARIANTS[0]
    first = [s.describe() for s in gen._steps("query", variant, random.Random(7))]
    again = [s.describe() for s in gen._steps("query", variant, random.Random(7))]
    assert first == again
    # the registered probe's steps come from a generator seeded with its id
    rng = random.Random(zlib.crc32(b"gen_params.query_int"))
    rng.random()  # the draw that picks def or async def
    expected = [s.describe() for s in gen._steps("query", variant, rng)]
    assert [s.describe() for s in lib.REGISTRY["gen_params.query_int"].steps] == expected


class OwnError(RuntimeError):
    pass


def test_exception_records_carry_alias_names(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("diff_runner_under_test", DIFF / "runner.py")
    assert spec is not None and spec.loader is not None
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)

    fake = ModuleType("fastapi.exceptions")
    fake.FastAPIError = OwnError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fastapi.exceptions", fake)
    rec = runner.exc_record(OwnError("boom"))
    assert rec["type"] == "OwnError"
    assert rec["mro"][:3] == ["OwnError", "FastAPIError", "RuntimeError"]
    assert rec["message"] == "boom"
