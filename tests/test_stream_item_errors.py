"""A stream item its declared type rejects: the error names the request, as FastAPI's does.

Also the python-multipart presence check (``hasten._plan.forms``), whose messages are
FastAPI's word for word.
"""

from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import BaseModel

from hasten import FastAPI, Form
from hasten._plan import forms
from hasten.exceptions import HastenError, ResponseValidationError
from hasten.sse import EventSourceResponse
from hasten.testclient import TestClient


class Item(BaseModel):
    name: str


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/jsonl/{n}")
    async def jsonl_async(n: int) -> AsyncIterator[Item]:
        yield Item(name="ok")
        yield {"name": n}  # type: ignore[misc]

    @app.get("/jsonl-sync")
    def jsonl_sync() -> Iterator[Item]:
        yield {"name": 5}  # type: ignore[misc]

    @app.get("/sse", response_class=EventSourceResponse)
    async def sse() -> AsyncIterator[Item]:
        yield {"name": 5}  # type: ignore[misc]

    sub = FastAPI()

    @sub.post("/items")
    async def mounted() -> AsyncIterator[Item]:
        yield {"name": 5}  # type: ignore[misc]

    app.mount("/sub", sub)
    return app


def _raised(method: str, url: str) -> ResponseValidationError:
    client = TestClient(_app())
    with pytest.raises(BaseException) as info:
        client.request(method, url)
    exc: BaseException = info.value
    while isinstance(exc, BaseExceptionGroup):  # SSE items are produced in a task group
        (exc,) = exc.exceptions
    assert isinstance(exc, ResponseValidationError)
    return exc


@pytest.mark.parametrize(
    ("method", "url", "where", "function"),
    [
        ("GET", "/jsonl/3", "GET /jsonl/{n}", "jsonl_async"),
        ("GET", "/jsonl-sync", "GET /jsonl-sync", "jsonl_sync"),
        ("GET", "/sse", "GET /sse", "sse"),
        ("POST", "/sub/items", "POST /sub/items", "mounted"),
    ],
)
def test_the_error_of_a_rejected_item_names_the_request(
    method: str, url: str, where: str, function: str
) -> None:
    exc = _raised(method, url)
    assert exc.endpoint_path == where
    assert exc.endpoint_ctx is not None and exc.endpoint_ctx["path"] == where
    assert exc.endpoint_function == function
    lines = str(exc).splitlines()
    assert lines[-2].startswith('  File "') and lines[-2].endswith(f", in {function}")
    assert lines[-1] == f"    {where}"
    assert [e["loc"] for e in exc.errors()] == [("response", "name")]


def test_an_unlocated_validation_error_names_only_the_path() -> None:
    exc = ResponseValidationError([{"msg": "m"}], endpoint_ctx={"path": "GET /x"})
    assert str(exc) == "1 validation error:\n  {'msg': 'm'}\n\n  Endpoint: GET /x"
    bare = ResponseValidationError([], body=b"b")
    assert (str(bare), bare.body, bare.endpoint_path, bare.endpoint_line) == (
        "0 validation errors:",
        b"b",
        None,
        None,
    )


def test_python_multipart_installed_passes() -> None:
    app = FastAPI()

    @app.post("/")
    def login(username: str = Form()) -> str:
        return username

    assert TestClient(app).post("/", data={"username": "u"}).json() == "u"


def test_an_old_python_multipart_without_the_legacy_module_is_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = {("python_multipart", "__version__"): "0.0.12"}
    monkeypatch.setattr(forms, "_lookup", lambda module, attr: answers.get((module, attr)))
    with pytest.raises(HastenError) as info:
        forms.ensure_multipart_is_installed()
    assert str(info.value) == (
        'Form data requires "python-multipart" to be installed. \n'
        'You can install "python-multipart" with: \n\n'
        "pip install python-multipart\n"
    )


def test_the_unrelated_multipart_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {("python_multipart", "__version__"): "0.0.12", ("multipart", "__version__"): "1.0"}
    monkeypatch.setattr(forms, "_lookup", lambda module, attr: answers.get((module, attr)))
    with pytest.raises(HastenError) as info:
        forms.ensure_multipart_is_installed()
    assert str(info.value) == (
        'Form data requires "python-multipart" to be installed. '
        'It seems you installed "multipart" instead. \n'
        'You can remove "multipart" with: \n\n'
        "pip uninstall multipart\n\n"
        'And then install "python-multipart" with: \n\n'
        "pip install python-multipart\n"
    )


def test_lookup_reads_the_attribute_now_and_tolerates_missing_modules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import python_multipart

    monkeypatch.setattr(python_multipart, "__version__", "9.9.9")
    assert forms._lookup("python_multipart", "__version__") == "9.9.9"
    assert forms._lookup("python_multipart", "no_such_attribute") is None
    assert forms._lookup("no_such_module_here", "__version__") is None
