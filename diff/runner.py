"""Run every selected probe in this interpreter and write one JSON record per probe.

    python -I diff/runner.py --env fastapi|hasten --out FILE [--ids FILE] [--list]

``--env hasten``: ``hasten.compat.install()`` first, so ``import fastapi`` answers Hasten; the
real ``fastapi`` distribution can never load (the alias finder sits first on ``sys.meta_path``
and never falls through). ``--env fastapi``: a finder that refuses ``hasten`` is installed, and
only ``diff/`` (not the repository root) is on ``sys.path``. Each environment is checked after
the run as well (``environment`` in the header record).

Records are written as JSON lines, one per probe, flushed as they are made: a crash leaves the
records of the probes that ran. Nothing here normalises; ``harness.py`` does (README.md).
"""

from __future__ import annotations

import argparse
import base64
import importlib
import importlib.abc
import importlib.util
import json
import os
import pkgutil
import signal
import sys
import time
import traceback
import warnings
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE_TIMEOUT = int(os.environ.get("HASTEN_DIFF_PROBE_TIMEOUT", "20"))


class _Refuse(importlib.abc.MetaPathFinder):
    """Makes ``import hasten`` fail in the FastAPI environment."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname == self.name or fullname.startswith(self.name + "."):
            raise ModuleNotFoundError(f"{fullname} is refused in this environment", name=fullname)
        return None


def setup_env(env: str) -> None:
    if env == "hasten":
        import hasten.compat

        hasten.compat.install()
        import fastapi  # (through the alias)
        import fastapi.routing

        import hasten
        import hasten.routing

        assert fastapi.routing is hasten.routing, "alias not in effect"
        assert fastapi.FastAPI is hasten.FastAPI, "alias not in effect"
    elif env == "fastapi":
        sys.meta_path.insert(0, _Refuse("hasten"))
        import fastapi

        hasten_dir = os.path.join(os.path.dirname(HERE), "hasten")
        assert not fastapi.__file__.startswith(hasten_dir), fastapi.__file__
    else:
        raise SystemExit(f"unknown env {env!r}")


def check_env(env: str) -> dict[str, Any]:
    import fastapi
    import pydantic
    import starlette

    info: dict[str, Any] = {
        "env": env,
        "python": sys.version.split()[0],
        "fastapi_file": fastapi.__file__,
        "fastapi_version": getattr(fastapi, "__version__", "?"),
        "pydantic": pydantic.VERSION,
        "starlette": starlette.__version__,
    }
    names = sorted(n for n in sys.modules if n == "fastapi" or n.startswith("fastapi."))
    if env == "hasten":
        import hasten.compat

        info["leaks"] = hasten.compat.leaks()
    else:
        info["leaks"] = sorted(n for n in sys.modules if n == "hasten" or n.startswith("hasten."))
    info["fastapi_modules"] = len(names)
    return info


def load_probes() -> dict[str, Any]:
    import probelib
    import probes

    for mod in sorted(pkgutil.iter_modules(probes.__path__), key=lambda m: m.name):
        if not mod.name.startswith("_"):
            importlib.import_module(f"probes.{mod.name}")
    return probelib.REGISTRY


# -- recording ---------------------------------------------------------------------------------


def _public_names(cls: type) -> list[str]:
    """The class's own name, plus the names it is exported under in ``fastapi.exceptions``
    (under the alias ``FastAPIError`` may be another name for Hasten's ``HastenError``)."""
    names = [cls.__qualname__]
    module = sys.modules.get("fastapi.exceptions")
    for name, value in vars(module).items() if module is not None else ():
        if value is cls and name not in names:
            names.append(name)
    return names


def exc_record(exc: BaseException) -> dict[str, Any]:
    tp = type(exc)
    mro = [c for c in tp.__mro__ if c not in (object, BaseException)]
    rec: dict[str, Any] = {
        "type": tp.__qualname__,
        "module": tp.__module__,
        "mro": [name for c in mro for name in _public_names(c)],
        "message": str(exc),
    }
    cause = exc.__cause__
    if cause is not None:
        rec["cause"] = f"{type(cause).__qualname__}: {cause}"
    if isinstance(exc, BaseExceptionGroup):
        rec["group"] = [exc_record(e) for e in exc.exceptions]
    return rec


def jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return {"repr": repr(value)}
    return value


def body_record(content: bytes) -> dict[str, Any]:
    try:
        return {"text": content.decode("utf-8")}
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(content).decode("ascii")}


class _Clients:
    """One TestClient per ``raise_server_exceptions`` flavour, made on first use."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.clients: dict[bool, Any] = {}

    def get(self, raise_server_exceptions: bool) -> Any:
        client = self.clients.get(raise_server_exceptions)
        if client is None:
            from fastapi.testclient import TestClient

            client = TestClient(self.app, raise_server_exceptions=raise_server_exceptions)
            self.clients[raise_server_exceptions] = client
        return client

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def send(clients: _Clients, step: Any, default_raise: bool) -> dict[str, Any]:
    import probelib

    kwargs = dict(step.kwargs)
    raw = kwargs.pop("headers", None) or {}
    headers = list(raw.items()) if isinstance(raw, dict) else list(raw)  # pairs keep repeats
    cookies = kwargs.pop("cookies", None)
    if cookies:
        headers.append(("cookie", "; ".join(f"{k}={v}" for k, v in cookies.items())))
    if "files" in kwargs and not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("content-type", f"multipart/form-data; boundary={probelib.BOUNDARY}"))
    if headers:
        kwargs["headers"] = headers
    flavour = (
        default_raise if step.raise_server_exceptions is None else step.raise_server_exceptions
    )
    client = clients.get(flavour)
    try:
        resp = client.request(step.method, step.url, **kwargs)
    except Exception as exc:
        return {"raised": exc_record(exc)}
    return {
        "status": resp.status_code,
        "headers": [[k, v] for k, v in resp.headers.multi_items()],
        "body": body_record(resp.content),
    }


def run_step(clients: _Clients, app: Any, step: Any, default_raise: bool) -> dict[str, Any]:
    import probelib

    if isinstance(step, probelib.Do):
        try:
            result = step.fn(app)
        except Exception as exc:
            return {"do": step.describe(), "raised": exc_record(exc)}
        return {"do": step.describe(), "result": jsonable(result) if step.record else None}
    rec = send(clients, step, default_raise)
    rec["request"] = step.describe()
    return rec


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout(f"probe exceeded {PROBE_TIMEOUT}s")


def run_probe(p: Any) -> dict[str, Any]:
    import probelib

    rec: dict[str, Any] = {"id": p.id, "description": p.description}
    if p.source:
        rec["source"] = p.source
    start = time.perf_counter()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(PROBE_TIMEOUT)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _run_probe_body(p, rec)
        except _Timeout as exc:
            rec["timeout"] = str(exc)
        finally:
            signal.alarm(0)
            try:
                probelib.run_undo()
            except Exception as exc:
                rec["undo_error"] = exc_record(exc)
    seen: list[list[str]] = []
    for w in caught:
        item = [w.category.__qualname__, str(w.message)]
        if item not in seen:
            seen.append(item)
    rec["warnings"] = seen
    rec["seconds"] = round(time.perf_counter() - start, 4)
    return rec


def _run_probe_body(p: Any, rec: dict[str, Any]) -> None:
    try:
        app = p.build()
    except _Timeout:
        raise
    except Exception as exc:
        rec["declaration"] = exc_record(exc)
        return
    clients = _Clients(app)
    try:
        rec["steps"] = [run_step(clients, app, s, p.raise_server_exceptions) for s in p.steps]
    finally:
        clients.close()
    if p.openapi and hasattr(app, "openapi"):
        try:
            rec["openapi"] = jsonable(app.openapi())
        except _Timeout:
            raise
        except Exception as exc:
            rec["openapi_error"] = exc_record(exc)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", required=True, choices=["fastapi", "hasten"])
    ap.add_argument("--out")
    ap.add_argument("--ids", help="file with one probe id per line (default: all)")
    ap.add_argument("--list", action="store_true", help="print id<TAB>description and exit")
    args = ap.parse_args()

    sys.path.insert(0, HERE)
    setup_env(args.env)
    registry = load_probes()
    if args.list:
        for pid, p in registry.items():
            first = p.description.splitlines()[0] if p.description else ""
            print(f"{pid}\t{first}")
        return 0
    ids = list(registry)
    if args.ids:
        with open(args.ids) as f:
            wanted = [line.strip() for line in f if line.strip()]
        ids = [i for i in wanted if i in registry]
    out = open(args.out, "w") if args.out else sys.stdout
    with out:
        for pid in ids:
            try:
                rec = run_probe(registry[pid])
            except (Exception, SystemExit) as exc:  # a probe must never stop the run
                rec = {
                    "id": pid,
                    "runner_error": exc_record(exc),
                    "traceback": traceback.format_exc(),
                }
            out.write(json.dumps(rec) + "\n")
            out.flush()
        out.write(json.dumps({"environment": check_env(args.env)}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
