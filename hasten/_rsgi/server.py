"""``hasten run``/``hasten dev`` on Granian: its settings, and the app each worker serves.

The command's safety limits map onto Granian's settings where Granian has one:

=============================== ===============================================================
``--timeout-request-head S``    HTTP/1 ``header_read_timeout`` (S seconds, at most 60): a head
                                slower than that, and an idle connection (before its first
                                request or between requests) that long, is closed
``--timeout-keep-alive S``      no separate setting: idle connections are closed by the head
                                timeout above; ``0`` turns HTTP/1 keep-alive off
``--max-request-head B``        HTTP/1 ``max_buffer_size`` (at least 8192) and HTTP/2
                                ``max_headers_size``: a larger head is refused
``--limit-concurrency N``       ``backpressure``: at most N requests run at once per worker;
                                the next ones wait (Granian does not answer 503)
``--timeout-graceful-shutdown`` ``workers_kill_timeout``: a worker still busy that long after
                                SIGTERM is killed
=============================== ===============================================================

Each worker imports the app itself (``load_served``) and serves it through
``hasten._rsgi.RSGIServed``, so any ASGI app works, with ``--root-path`` applied and, with
``--proxy-headers``, uvicorn's ``ProxyHeadersMiddleware`` trusting ``FORWARDED_ALLOW_IPS``
(default ``127.0.0.1``), as ``hasten run`` on uvicorn does.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from functools import partial
from typing import Any

from .app import RSGIApp, RSGIServed
from .direct import DirectAnswers

__all__ = ["GranianRun", "granian_options", "load_served", "serve_granian"]

_MAX_HEADER_TIMEOUT_MS = 60_000
_MIN_BUFFER = 8192


@dataclass(frozen=True)
class GranianRun:
    """What ``hasten run``/``hasten dev`` asked for, in the command's own terms."""

    target: str  # module:attribute
    app_dir: str | None
    host: str
    port: int
    workers: int = 1
    reload: bool = False
    root_path: str = ""
    proxy_headers: bool = True
    timeout_keep_alive: int = 5
    timeout_request_head: float = 10.0
    max_request_head: int = 32768
    limit_concurrency: int | None = None
    timeout_graceful_shutdown: int = 30


def granian_options(run: GranianRun) -> dict[str, Any]:
    """The keyword arguments of ``granian.Granian`` for ``run`` (see the module docstring)."""
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings, HTTP2Settings

    head_ms = max(1, min(_MAX_HEADER_TIMEOUT_MS, round(run.timeout_request_head * 1000)))
    options: dict[str, Any] = {
        "address": run.host,
        "port": run.port,
        "interface": Interfaces.RSGI,
        "workers": max(1, run.workers),
        "http1_settings": HTTP1Settings(
            header_read_timeout=head_ms,
            keep_alive=run.timeout_keep_alive > 0,
            max_buffer_size=max(_MIN_BUFFER, run.max_request_head),
        ),
        "http2_settings": HTTP2Settings(max_headers_size=run.max_request_head),
        "workers_kill_timeout": max(1, min(1800, run.timeout_graceful_shutdown)),
        "reload": run.reload,
    }
    if run.limit_concurrency is not None:
        options["backpressure"] = max(1, run.limit_concurrency)
    return options


def _trusted_hosts() -> str:
    return os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def load_served(
    target: str, *, app_dir: str | None, root_path: str, proxy_headers: bool
) -> RSGIServed:
    """In a worker: import ``target`` (``module:attribute``) and wrap it for RSGI."""
    if app_dir is not None and app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    module_name, _, attribute = target.partition(":")
    app: Any = importlib.import_module(module_name)
    for part in (attribute or "app").split("."):
        app = getattr(app, part)
    served = app
    outer = None
    if proxy_headers:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        served = outer = ProxyHeadersMiddleware(app, trusted_hosts=_trusted_hosts())
    # A Hasten app answers some requests directly; the proxy-headers layer only sets the scope.
    direct = DirectAnswers(app, outer) if isinstance(app, RSGIApp) and not root_path else None
    return RSGIServed(served, root_path, direct)


def serve_granian(run: GranianRun) -> None:
    """Serve ``run.target`` with Granian's RSGI interface until the server stops."""
    from granian import Granian

    server = Granian(run.target, **granian_options(run))
    loader = partial(
        load_served,
        app_dir=run.app_dir,
        root_path=run.root_path,
        proxy_headers=run.proxy_headers and importlib.util.find_spec("uvicorn") is not None,
    )
    server.serve(target_loader=loader)  # type: ignore[arg-type]  # an RSGI target object
