"""Probe apps and observers shared by the integration tests and ``record_fastapi.py``.

Run as a script, in a fresh interpreter (every instrumentation patches modules for good):

    python probes.py OUT.json INTEGRATION CONFIG MODE

MODE is ``fastapi`` (real FastAPI, used by ``record_fastapi.py``), ``alias`` (Hasten answering
``import fastapi`` through ``hasten.compat``) or ``native`` (``from hasten import Hasten``). The
script sets the integration up, builds the probe app, sends the same requests, and writes what
the integration recorded, normalised (no timestamps, ids, durations, ports), to OUT.json.

The recording and the tests run this one file, so they cannot drift apart. It imports nothing
from the project at module level: under FastAPI it runs in a venv without Hasten.
"""

import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel

# Every request the probe sends: method, path, JSON body, headers.
REQUESTS: list[tuple[str, str, Any, dict[str, str]]] = [
    ("GET", "/items/3?q=x", None, {}),
    ("GET", "/items/abc", None, {}),
    ("POST", "/items", {"name": "a", "price": 1.5}, {}),
    ("POST", "/items", {"name": "a"}, {}),
    ("GET", "/sync/bob", None, {"x-user": "alice"}),
    ("GET", "/error", None, {}),
    ("GET", "/http-error/404", None, {}),
    ("GET", "/http-error/503", None, {}),
    ("GET", "/api/users/7", None, {}),
    ("GET", "/ping", None, {}),
    ("GET", "/session/s1", None, {}),
    ("GET", "/missing", None, {}),
]


# -- the framework and the probe app ------------------------------------------------------------


@dataclass
class Framework:
    """What the probe app is built from: FastAPI, Hasten through the alias, or native Hasten."""

    mode: str
    pkg: Any
    app_cls: Any
    client_cls: Any


def install_alias(mode: str) -> None:
    """In ``alias`` mode, let ``import fastapi`` answer Hasten (before anything imports it)."""
    if mode == "alias":
        import hasten.compat

        hasten.compat.install()


def framework(mode: str) -> Framework:
    """The package the probe app is built with, read now (after the integration's set-up)."""
    if mode == "native":
        import hasten
        import hasten.testclient

        return Framework(mode, hasten, hasten.Hasten, hasten.testclient.TestClient)
    import fastapi
    import fastapi.testclient

    return Framework(mode, fastapi, fastapi.FastAPI, fastapi.testclient.TestClient)


class Item(BaseModel):
    name: str
    price: float


def build_app(fw: Framework, **app_kwargs: Any) -> Any:
    """The probe app: path/query/body/header parameters, a dependency, errors, a router, a
    route without parameters and one with a ``yield`` dependency (each of Hasten's runners)."""
    pkg = fw.pkg
    app = fw.app_cls(**app_kwargs)

    def current_user(x_user: Annotated[str | None, pkg.Header()] = None) -> str:
        return x_user or "anonymous"

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.post("/items", status_code=201)
    async def create_item(item: Item) -> Item:
        return item

    @app.get("/sync/{name}")
    def sync_route(name: str, user: Annotated[str, pkg.Depends(current_user)]) -> dict[str, str]:
        return {"name": name, "user": user}

    @app.get("/error")
    async def raise_error() -> None:
        raise RuntimeError("boom")

    @app.get("/http-error/{code}")
    async def http_error(code: int) -> None:
        raise pkg.HTTPException(status_code=code, detail="nope")

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    async def session() -> Any:
        yield "open"

    @app.get("/session/{sid}")
    async def read_session(sid: str, state: Annotated[str, pkg.Depends(session)]) -> dict:
        return {"sid": sid, "state": state}

    router = pkg.APIRouter(prefix="/api")

    @router.get("/users/{user_id}")
    async def read_user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}

    app.include_router(router)
    return app


# -- normalising ---------------------------------------------------------------------------------

_PORT = re.compile(r"(://[^/:]+):\d+")
_HERE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SITE = re.compile(r"/\S*?/site-packages/")


def plain(value: Any) -> Any:
    """JSON-safe copy: tuples to lists, unknown objects to their type name, ports removed."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return _SITE.sub("site-packages/", _PORT.sub(r"\1", value).replace(_HERE, ""))
    if value is None or isinstance(value, bool | int | float):
        return value
    return type(value).__name__


def drop(mapping: Any, *, keys: frozenset[str] = frozenset(), pattern: str = "") -> dict:
    """``mapping`` without ``keys`` and without keys matching ``pattern``."""
    rx = re.compile(pattern) if pattern else None
    return {
        k: v
        for k, v in dict(mapping or {}).items()
        if k not in keys and not (rx is not None and rx.search(k))
    }


# -- integrations ---------------------------------------------------------------------------------


class Integration:
    """One instrumentation: set up, instrument the app, collect what it recorded per request."""

    early = False  # set up before the alias is installed (and before Hasten is imported)
    app_kwargs: dict[str, Any] = {}

    def __init__(self, config: str) -> None:
        self.config = config

    def setup(self, mode: str) -> None:
        """Initialise the package (before the app class is read)."""

    def instrument(self, app: Any, fw: Framework) -> Any:
        """Instrument the built app; return the ASGI app to call."""
        return app

    def drain(self) -> Any:
        """What was recorded since the last call (called after each request)."""
        return None

    def finish(self, client: Any) -> Any:
        """What is observed once all requests are done (a metrics scrape)."""
        return None


class Sentry(Integration):
    """sentry-sdk with an in-memory transport. Configs: default (auto-enabled integrations),
    failed_status (explicit integrations, failed_request_status_codes={404, 503}, endpoint
    style), middleware_spans (a span per middleware), starlette_only (only
    StarletteIntegration)."""

    def setup(self, mode: str) -> None:
        import sentry_sdk
        from sentry_sdk.transport import Transport

        self.envelopes: list[Any] = []
        envelopes = self.envelopes

        class MemoryTransport(Transport):
            def capture_envelope(self, envelope: Any) -> None:
                envelopes.append(envelope)

        options: dict[str, Any] = {}
        if self.config == "failed_status":
            from sentry_sdk.integrations.fastapi import FastApiIntegration
            from sentry_sdk.integrations.starlette import StarletteIntegration

            codes = {404, 503}
            options["integrations"] = [
                StarletteIntegration(
                    failed_request_status_codes=codes, transaction_style="endpoint"
                ),
                FastApiIntegration(failed_request_status_codes=codes, transaction_style="endpoint"),
            ]
        elif self.config == "middleware_spans":
            from sentry_sdk.integrations.fastapi import FastApiIntegration
            from sentry_sdk.integrations.starlette import StarletteIntegration

            options["integrations"] = [
                StarletteIntegration(middleware_spans=True),
                FastApiIntegration(middleware_spans=True),
            ]
        elif self.config == "starlette_only":
            from sentry_sdk.integrations.starlette import StarletteIntegration

            options["integrations"] = [StarletteIntegration()]
            options["auto_enabling_integrations"] = False
        sentry_sdk.init(
            dsn="http://public@localhost/1",
            transport=MemoryTransport(),
            traces_sample_rate=1.0,
            send_default_pii=True,
            **options,
        )
        from sentry_sdk import get_client

        self.enabled = sorted(
            name
            for name in ("fastapi", "starlette")
            if get_client().get_integration(name) is not None  # type: ignore[arg-type]
        )

    def drain(self) -> Any:
        out = [self.item(item) for env in self.envelopes for item in env.items]
        self.envelopes.clear()
        return out

    def finish(self, client: Any) -> Any:
        return {"integrations": self.enabled}

    @staticmethod
    def item(item: Any) -> dict[str, Any]:
        p = item.payload.json or {}
        out: dict[str, Any] = {
            "type": item.type,
            "transaction": p.get("transaction"),
            "source": (p.get("transaction_info") or {}).get("source"),
        }
        if item.type == "event":
            out["level"] = p.get("level")
            out["exceptions"] = [
                {
                    "type": v.get("type"),
                    "value": v.get("value"),
                    "mechanism": (v.get("mechanism") or {}).get("type"),
                    "handled": (v.get("mechanism") or {}).get("handled"),
                }
                for v in (p.get("exception") or {}).get("values", [])
            ]
        if item.type == "transaction":
            trace = p.get("contexts", {}).get("trace", {})
            out["op"] = trace.get("op")
            out["origin"] = trace.get("origin")
            out["status"] = trace.get("status")
            out["status_code"] = (trace.get("data") or {}).get("http.response.status_code")
            out["response"] = p.get("contexts", {}).get("response")
            out["spans"] = [
                [s.get("op"), s.get("description"), s.get("origin")] for s in p.get("spans", [])
            ]
        req = p.get("request") or {}
        out["request"] = {
            "method": req.get("method"),
            "url": req.get("url"),
            "query_string": req.get("query_string"),
            "data": req.get("data"),
            "headers": sorted(req.get("headers") or {}),
        }
        return plain(out)


class OTelSpans(Integration):
    """OpenTelemetry SDK spans, exported in memory."""

    def provider(self) -> Any:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.exporter = InMemorySpanExporter()
        tp = TracerProvider()
        tp.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer_provider = tp
        return tp

    def drain(self) -> Any:
        spans = sorted(self.exporter.get_finished_spans(), key=lambda s: s.start_time or 0)
        self.exporter.clear()
        names = {s.context.span_id: s.name for s in spans}
        return [
            plain(
                {
                    "name": s.name,
                    "kind": s.kind.name,
                    "parent": names.get(s.parent.span_id) if s.parent else None,
                    "status": s.status.status_code.name,
                    "attributes": dict(sorted(drop(s.attributes, pattern=r"port$").items())),
                    "events": [
                        [e.name, drop(e.attributes, keys=frozenset({"exception.stacktrace"}))]
                        for e in s.events
                    ],
                }
            )
            for s in spans
        ]


class OpenTelemetry(OTelSpans):
    """opentelemetry-instrumentation-fastapi / -starlette. Configs: instrument_app (FastAPI
    instrumentor on the app), instrument (the global instrumentor, before the app class is
    read), starlette (StarletteInstrumentor.instrument_app)."""

    def setup(self, mode: str) -> None:
        tp = self.provider()
        if self.config == "instrument":
            from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

            FastAPIInstrumentor().instrument(tracer_provider=tp)

    def instrument(self, app: Any, fw: Framework) -> Any:
        if self.config == "instrument_app":
            from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

            FastAPIInstrumentor.instrument_app(app, tracer_provider=self.tracer_provider)
        elif self.config == "starlette":
            from opentelemetry.instrumentation.starlette import StarletteInstrumentor

            StarletteInstrumentor.instrument_app(app, tracer_provider=self.tracer_provider)
        return app


class Logfire(Integration):
    """logfire.instrument_fastapi with logfire's in-memory test exporter."""

    def setup(self, mode: str) -> None:
        import logfire
        from logfire.testing import IncrementalIdGenerator, TestExporter, TimeGenerator
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        self.exporter = TestExporter()
        logfire.configure(
            send_to_logfire=False,
            console=False,
            metrics=False,
            inspect_arguments=False,
            advanced=logfire.AdvancedOptions(
                id_generator=IncrementalIdGenerator(), ns_timestamp_generator=TimeGenerator()
            ),
            additional_span_processors=[SimpleSpanProcessor(self.exporter)],
        )

    def instrument(self, app: Any, fw: Framework) -> Any:
        import logfire

        logfire.instrument_fastapi(app)
        return app

    def drain(self) -> Any:
        spans = self.exporter.exported_spans_as_dict()
        self.exporter.clear()
        names = {s["context"]["span_id"]: s["name"] for s in spans}
        out = []
        for s in sorted(spans, key=lambda s: s["start_time"]):
            attributes = drop(
                s["attributes"],
                keys=frozenset({"code.filepath", "code.lineno", "logfire.json_schema"}),
                pattern=r"timestamp|port$|duration",
            )
            out.append(
                plain(
                    {
                        "name": s["name"],
                        "parent": names.get((s.get("parent") or {}).get("span_id")),
                        "attributes": dict(sorted(attributes.items())),
                        "events": [
                            [
                                e["name"],
                                drop(e.get("attributes"), keys=frozenset({"exception.stacktrace"})),
                            ]
                            for e in s.get("events", [])
                        ],
                    }
                )
            )
        return out


DD_ENV = {
    "DD_SERVICE": "probe",
    "DD_TRACE_AGENT_URL": "http://127.0.0.1:9",
    "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false",
    "DD_REMOTE_CONFIGURATION_ENABLED": "false",
    "DD_TRACE_STARTUP_LOGS": "false",
    "DD_CRASHTRACKING_ENABLED": "false",
    "DD_TRACE_STATS_COMPUTATION_ENABLED": "false",
    "DD_DATA_STREAMS_ENABLED": "false",
    "DD_TELEMETRY_DEPENDENCY_COLLECTION_ENABLED": "false",
}


class Ddtrace(Integration):
    """ddtrace: patch(fastapi=True, starlette=True) (config ``patch``) or run under ddtrace-run
    (config ``ddtrace_run``); traces are taken by a TraceFilter that keeps them and sends none."""

    def setup(self, mode: str) -> None:
        from ddtrace.trace import TraceFilter, tracer

        if self.config == "patch":
            from ddtrace import patch

            patch(fastapi=True, starlette=True)
        self.traces: list[Any] = []
        traces = self.traces

        class Keep(TraceFilter):
            def process_trace(self, trace: Any) -> None:
                traces.append(list(trace))
                return None  # nothing reaches the writer

        tracer.configure(trace_processors=[Keep()])

    def drain(self) -> Any:
        out = []
        for trace in self.traces:
            spans = sorted(trace, key=lambda s: s.start_ns)
            names = {s.span_id: f"{s.name} {s.resource}" for s in spans}
            out.append(
                [
                    plain(
                        {
                            "name": s.name,
                            "resource": s.resource,
                            "span_type": s.span_type,
                            "service": s.service,
                            "error": s.error,
                            "parent": names.get(s.parent_id),
                            "meta": dict(
                                sorted(
                                    drop(
                                        s.get_tags(),
                                        keys=frozenset({"runtime-id", "error.stack"}),
                                        pattern=r"^_dd\.|port$",
                                    ).items()
                                )
                            ),
                        }
                    )
                    for s in spans
                ]
            )
        self.traces.clear()
        return out


class NewRelic(Integration):
    """The New Relic agent in developer mode (no collector connection, no license); transactions
    are taken where the agent records them (``StatsEngine.record_transaction``)."""

    early = True

    def setup(self, mode: str) -> None:
        os.environ.update(
            NEW_RELIC_DEVELOPER_MODE="true",
            NEW_RELIC_APP_NAME="probe",
            NEW_RELIC_LICENSE_KEY="0" * 40,
            NEW_RELIC_LOG="stderr",
            NEW_RELIC_LOG_LEVEL="error",
            NEW_RELIC_STARTUP_TIMEOUT="10",
        )
        import newrelic.agent
        from newrelic.core.stats_engine import StatsEngine

        newrelic.agent.initialize()
        self.transactions: list[Any] = []
        original = StatsEngine.record_transaction
        transactions = self.transactions

        def record(engine: Any, transaction: Any) -> Any:
            transactions.append(transaction)
            return original(engine, transaction)

        StatsEngine.record_transaction = record  # type: ignore[method-assign]
        self.application = newrelic.agent.register_application(timeout=10)
        self.active = bool(self.application.active)

    def drain(self) -> Any:
        out = [self.node(t) for t in self.transactions]
        self.transactions.clear()
        return out

    def finish(self, client: Any) -> Any:
        return {"active": self.active}

    @classmethod
    def children(cls, node: Any) -> list[Any]:
        out = []
        for child in getattr(node, "children", ()) or ():
            entry = [
                type(child).__name__,
                getattr(child, "group", None),
                getattr(child, "name", None),
            ]
            out.append([*entry, cls.children(child)])
        return out

    @classmethod
    def node(cls, t: Any) -> Any:
        attributes = {a.name: a.value for a in t.agent_attributes}
        return plain(
            {
                "path": t.path,
                "group": t.group,
                "name": t.name,
                "type": t.type,
                "request_uri": t.request_uri,
                "response_code": attributes.get(
                    "http.statusCode", attributes.get("response.status")
                ),
                "request_method": attributes.get("request.method"),
                "errors": [[e.type, e.message, e.expected] for e in t.errors],
                "trace": cls.children(t.root),
            }
        )


class ElasticApm(Integration):
    """Elastic APM's Starlette middleware with an in-memory transport."""

    def setup(self, mode: str) -> None:
        from elasticapm.transport.base import Transport

        self.events: list[tuple[str, Any]] = []
        events = self.events

        class MemoryTransport(Transport):
            def queue(self, event_type: str, data: Any, flush: bool = False) -> None:
                events.append((event_type, data))

            def start_thread(self, pid: Any = None) -> None:
                return None

        sys.modules[__name__].MemoryTransport = MemoryTransport  # type: ignore[attr-defined]

    def instrument(self, app: Any, fw: Framework) -> Any:
        from elasticapm.contrib.starlette import ElasticAPM, make_apm_client

        client = make_apm_client(
            {
                "SERVICE_NAME": "probe",
                "SERVER_URL": "http://127.0.0.1:9",
                "TRANSPORT_CLASS": f"{__name__}.MemoryTransport",
                "CENTRAL_CONFIG": False,
                "CLOUD_PROVIDER": "none",
                "METRICS_INTERVAL": "0ms",
                "BREAKDOWN_METRICS": False,
                "CAPTURE_BODY": "all",
                "INCLUDE_PROCESS_ARGS": False,
            }
        )
        app.add_middleware(ElasticAPM, client=client)
        return app

    def drain(self) -> Any:
        out = []
        for kind, data in self.events:
            if kind == "transaction":
                ctx = data.get("context", {})
                out.append(
                    {
                        "kind": kind,
                        "name": data.get("name"),
                        "type": data.get("type"),
                        "result": data.get("result"),
                        "outcome": data.get("outcome"),
                        "status_code": ctx.get("response", {}).get("status_code"),
                        "method": ctx.get("request", {}).get("method"),
                        "url": ctx.get("request", {}).get("url", {}).get("full"),
                        "body": ctx.get("request", {}).get("body"),
                        "span_count": data.get("span_count"),
                    }
                )
            elif kind == "error":
                exc = data.get("exception", {})
                out.append(
                    {
                        "kind": kind,
                        "type": exc.get("type"),
                        "message": exc.get("message"),
                        "handled": exc.get("handled"),
                        "culprit": data.get("culprit"),
                        "transaction": data.get("transaction", {}).get("name"),
                        "method": data.get("context", {}).get("request", {}).get("method"),
                    }
                )
            elif kind == "span":
                out.append({"kind": kind, "name": data.get("name"), "type": data.get("type")})
        self.events.clear()
        return plain(out)


def scrape(client: Any, prefixes: tuple[str, ...], volatile: str) -> list[str]:
    """GET /metrics: the sample lines of the named families, without timing-dependent ones."""
    text = client.get("/metrics").text
    out = []
    for line in text.splitlines():
        if not line.startswith(prefixes) or re.search(volatile, line.split(" ")[0]):
            continue
        out.append(line)
    return sorted(out)


class PrometheusInstrumentator(Integration):
    """prometheus-fastapi-instrumentator: Instrumentator().instrument(app).expose(app)."""

    def instrument(self, app: Any, fw: Framework) -> Any:
        from prometheus_fastapi_instrumentator import Instrumentator

        Instrumentator().instrument(app).expose(app)
        return app

    def finish(self, client: Any) -> Any:
        return scrape(client, ("http_",), r"_created|duration_(highr_)?seconds_(bucket|sum)")


class StarletteExporter(Integration):
    """starlette-exporter: PrometheusMiddleware + handle_metrics on /metrics."""

    def instrument(self, app: Any, fw: Framework) -> Any:
        from starlette_exporter import PrometheusMiddleware, handle_metrics

        app.add_middleware(PrometheusMiddleware, app_name="probe", group_paths=True)
        app.add_route("/metrics", handle_metrics)
        return app

    def finish(self, client: Any) -> Any:
        return scrape(client, ("starlette_",), r"_created|duration_seconds_(bucket|sum)")


class TelemetryBeside(OTelSpans):
    """The framework's own telemetry (``telemetry={"tracer_provider": ...}``) with Sentry
    (config ``sentry``) or the OpenTelemetry FastAPI instrumentor (config ``otel``) beside it."""

    def setup(self, mode: str) -> None:
        self.app_kwargs = {"telemetry": {"tracer_provider": self.provider()}}
        self.sentry = Sentry("default") if self.config == "sentry" else None
        if self.sentry is not None:
            self.sentry.setup(mode)

    def instrument(self, app: Any, fw: Framework) -> Any:
        if self.config == "otel":
            from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

            FastAPIInstrumentor.instrument_app(app, tracer_provider=self.tracer_provider)
        return app

    def drain(self) -> Any:
        spans = super().drain()
        return {"spans": spans, "sentry": self.sentry.drain() if self.sentry else None}


INTEGRATIONS: dict[str, Callable[[str], Integration]] = {
    "sentry": Sentry,
    "opentelemetry": OpenTelemetry,
    "logfire": Logfire,
    "ddtrace": Ddtrace,
    "newrelic": NewRelic,
    "elasticapm": ElasticApm,
    "prometheus_fastapi_instrumentator": PrometheusInstrumentator,
    "starlette_exporter": StarletteExporter,
    "telemetry": TelemetryBeside,
}


def observe(name: str, config: str, mode: str) -> dict[str, Any]:
    """Set ``name`` up, build and instrument the probe app, send REQUESTS, return what it saw."""
    integration = INTEGRATIONS[name](config)
    if integration.early:
        integration.setup(mode)
    install_alias(mode)
    if not integration.early:
        integration.setup(mode)
    fw = framework(mode)
    app = integration.instrument(build_app(fw, **integration.app_kwargs), fw)
    requests = []
    with fw.client_cls(app, raise_server_exceptions=False) as client:
        integration.drain()  # anything recorded at startup is not a request's
        for method, path, body, headers in REQUESTS:
            response = client.request(method, path, json=body, headers=headers)
            requests.append(
                {
                    "request": f"{method} {path}",
                    "status": response.status_code,
                    "recorded": integration.drain(),
                }
            )
        final = integration.finish(client)
    return {"requests": requests, "final": final}


def main(argv: list[str]) -> None:
    out, name, config, mode = argv
    result = observe(name, config, mode)
    with open(out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")


# -- what is run ----------------------------------------------------------------------------------

# (integration, config) -> the modes tested on Hasten; each is compared with the same config
# recorded on FastAPI (``native`` runs where the integration does not need ``import fastapi``).
RUNS: dict[tuple[str, str], tuple[str, ...]] = {
    ("sentry", "default"): ("alias",),
    ("sentry", "failed_status"): ("alias",),
    ("sentry", "middleware_spans"): ("alias",),
    ("sentry", "starlette_only"): ("alias", "native"),
    ("opentelemetry", "instrument_app"): ("alias",),
    ("opentelemetry", "instrument"): ("alias",),
    ("opentelemetry", "starlette"): ("alias", "native"),
    ("logfire", "default"): ("alias",),
    ("ddtrace", "patch"): ("alias",),
    ("ddtrace", "ddtrace_run"): ("alias",),
    ("newrelic", "default"): ("alias",),
    ("elasticapm", "default"): ("alias", "native"),
    ("prometheus_fastapi_instrumentator", "default"): ("alias", "native"),
    ("starlette_exporter", "default"): ("alias", "native"),
    ("telemetry", "sentry"): ("alias",),
    ("telemetry", "otel"): ("alias",),
}


def runs(name: str) -> list[tuple[str, str]]:
    """The ``(config, mode)`` pairs of ``name`` tested on Hasten."""
    return [(config, mode) for (n, config), modes in RUNS.items() if n == name for mode in modes]


# Variables that could change what a probe observes, removed from the child's environment.
_SCRUB = re.compile(r"^(HASTEN_|DD_|NEW_RELIC_|ELASTIC_APM_|SENTRY_|OTEL_|LOGFIRE_|FASTAPI_)")


def command(python: str, out: str, name: str, config: str, mode: str) -> tuple[list[str], dict]:
    """The argv and environment that run one probe with ``python`` (a venv's interpreter)."""
    argv = [python, os.path.abspath(__file__), out, name, config, mode]
    if config == "ddtrace_run":
        argv.insert(0, os.path.join(os.path.dirname(python), "ddtrace-run"))
    env = {k: v for k, v in os.environ.items() if not _SCRUB.match(k)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if name == "ddtrace":
        env.update(DD_ENV)
    return argv, env


if __name__ == "__main__":
    main(sys.argv[1:])
