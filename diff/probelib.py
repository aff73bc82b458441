"""The probe API of the differential harness (see diff/README.md).

A probe is one app plus a list of steps. The app is built by a function written once with
``from fastapi import ...``; the runner builds it and sends the steps through
``fastapi.testclient.TestClient`` on real FastAPI and on Hasten, and records every answer.

    from diff.probelib import probe, get, post, do

    @probe(get("/items/3"), post("/items", json={"a": 1}))
    def items_roundtrip():
        app = FastAPI()
        ...
        return app

This module imports neither ``fastapi`` nor ``hasten``: it is shared by the two runners and by
the comparer (which runs in neither environment).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BOUNDARY",
    "Do",
    "Probe",
    "R",
    "REGISTRY",
    "delete",
    "do",
    "get",
    "patch",
    "patch_attr",
    "post",
    "probe",
    "probe_source",
    "put",
    "register",
    "request",
]

# Fixed multipart boundary for requests with ``files=``: httpx would pick a random one, and an
# app that echoes the raw body (or ``exc.body``) would then differ from run to run.
BOUNDARY = "diffprobeboundary0123456789"


@dataclass(frozen=True)
class R:
    """One HTTP request: ``method``, ``url`` and httpx keyword arguments.

    ``cookies=`` is sent as a ``Cookie`` header (httpx deprecates per-request cookies).
    ``raise_server_exceptions`` picks the TestClient flavour (default: the probe's).
    """

    method: str
    url: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    raise_server_exceptions: bool | None = None
    label: str = ""

    def describe(self) -> str:
        shown = {k: v for k, v in self.kwargs.items() if k != "headers" or v}
        extra = f" {shown}" if shown else ""
        if len(extra) > 160:
            extra = extra[:157] + "..."
        tag = f" [{self.label}]" if self.label else ""
        return f"{self.method} {self.url}{extra}{tag}"


@dataclass(frozen=True)
class Do:
    """A step that calls ``fn(app)`` (mutate the route table, patch something, read state).

    With ``record=True`` the return value is recorded (it must be JSON-able, after
    ``repr()`` of anything that is not); an exception is always recorded.
    """

    fn: Callable[[Any], Any]
    label: str = ""
    record: bool = True

    def describe(self) -> str:
        name = self.label or getattr(self.fn, "__name__", "step")
        return f"do {name}"


Step = R | Do


@dataclass
class Probe:
    """One probe: an id, an app builder and its steps."""

    id: str
    build: Callable[[], Any]
    steps: list[Step]
    raise_server_exceptions: bool = True
    description: str = ""
    openapi: bool = True
    module: str = ""
    source: str = ""


REGISTRY: dict[str, Probe] = {}

# Undo list of the probe being run (see ``patch_attr``); the runner owns it.
_UNDO: list[Callable[[], None]] = []


def register(p: Probe) -> Probe:
    """Add a probe to the registry (ids must be unique)."""
    if p.id in REGISTRY:
        raise ValueError(f"duplicate probe id {p.id!r}")
    REGISTRY[p.id] = p
    return p


def _module_prefix(module: str) -> str:
    return module.rsplit(".", 1)[-1]


def probe(
    *steps: Step,
    id: str | None = None,
    raise_server_exceptions: bool = True,
    openapi: bool = True,
) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Decorator: register the decorated app builder as a probe with these steps.

    The id is ``<module>.<function name>`` unless given. The builder's docstring is the
    probe's description.
    """

    def deco(fn: Callable[[], Any]) -> Callable[[], Any]:
        prefix = _module_prefix(fn.__module__)
        register(
            Probe(
                id=id or f"{prefix}.{fn.__name__}",
                build=fn,
                steps=list(steps),
                raise_server_exceptions=raise_server_exceptions,
                description=inspect.cleandoc(fn.__doc__ or ""),
                openapi=openapi,
                module=fn.__module__,
            )
        )
        return fn

    return deco


def probe_source(
    id: str,
    source: str,
    *steps: Step,
    description: str = "",
    raise_server_exceptions: bool = True,
    openapi: bool = True,
) -> Probe:
    """Register a probe whose app is ``app`` after executing ``source`` (generated probes).

    The source is compiled now (a mistake in a generator fails at import) and executed in a
    fresh namespace on every build; ``--verbose`` shows it for differing probes.
    """
    code = compile(source, f"<probe {id}>", "exec", dont_inherit=True)

    def build() -> Any:
        namespace: dict[str, Any] = {"__name__": "probe_" + id.replace(".", "_")}
        exec(code, namespace)
        return namespace["app"]

    return register(
        Probe(
            id=id,
            build=build,
            steps=list(steps),
            raise_server_exceptions=raise_server_exceptions,
            description=description or source.strip().splitlines()[-1],
            openapi=openapi,
            source=source,
        )
    )


def request(
    method: str,
    url: str,
    *,
    raise_server_exceptions: bool | None = None,
    label: str = "",
    **kwargs: Any,
) -> R:
    """A request step (``kwargs`` are httpx's: params, headers, json, content, data, files)."""
    return R(method.upper(), url, kwargs, raise_server_exceptions, label)


def get(url: str, **kwargs: Any) -> R:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> R:
    return request("POST", url, **kwargs)


def put(url: str, **kwargs: Any) -> R:
    return request("PUT", url, **kwargs)


def delete(url: str, **kwargs: Any) -> R:
    return request("DELETE", url, **kwargs)


def do(fn: Callable[[Any], Any], label: str = "", record: bool = True) -> Do:
    """A step calling ``fn(app)``."""
    return Do(fn, label, record)


def patch_attr(obj: Any, name: str, value: Any) -> None:
    """``setattr(obj, name, value)``, undone when the current probe ends."""
    missing = object()
    old = obj.__dict__.get(name, missing) if hasattr(obj, "__dict__") else getattr(obj, name)

    def undo() -> None:
        if old is missing:
            delattr(obj, name)
        else:
            setattr(obj, name, old)

    setattr(obj, name, value)
    _UNDO.append(undo)


patch = patch_attr


def run_undo() -> None:
    """Undo every ``patch_attr`` of the probe that just ran (newest first)."""
    while _UNDO:
        _UNDO.pop()()


def requests_for(values: Iterable[Any], make: Callable[[Any], R]) -> list[R]:
    """Helper for generated probes: one request per value."""
    return [make(v) for v in values]
