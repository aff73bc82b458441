"""Native OpenTelemetry (``Hasten(telemetry=...)``): spans, metrics, logs, data, settings."""

import importlib
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from opentelemetry import context as otel_context
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.middleware.errors import ServerErrorMiddleware

from hasten import BackgroundTasks, Depends, FastAPI, Hasten, HTTPException, Request, WebSocket
from hasten.exceptions import HastenError
from hasten.telemetry import TelemetryConfig, TelemetryData, _asgi, _runtime, get_telemetry_data
from hasten.testclient import TestClient


class Signals:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(shutdown_on_exit=False)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader], shutdown_on_exit=False)
        self.logs = InMemoryLogRecordExporter()
        self.logger_provider = LoggerProvider(shutdown_on_exit=False)
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.logs))

    def config(self, **options: Any) -> TelemetryConfig:
        config: TelemetryConfig = {
            "tracer_provider": self.tracer_provider,
            "meter_provider": self.meter_provider,
            "logger_provider": self.logger_provider,
        }
        config.update(options)  # type: ignore[typeddict-item]
        return config

    def server(self) -> Any:
        (span,) = [s for s in self.spans.get_finished_spans() if s.kind == SpanKind.SERVER]
        return span

    def names(self) -> list[str]:
        return sorted(s.name for s in self.spans.get_finished_spans())

    def points(self, name: str = "http.server.request.duration") -> list[Any]:
        data = self.reader.get_metrics_data()
        if data is None:
            return []
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


@pytest.fixture
def signals() -> Iterator[Signals]:
    found = Signals()
    yield found
    found.tracer_provider.shutdown()
    found.meter_provider.shutdown()
    found.logger_provider.shutdown()


def _item_app(telemetry: TelemetryConfig | None, cls: type[Hasten] = FastAPI) -> Hasten:
    app = cls(telemetry=telemetry)

    def limit(size: int = 10) -> int:
        return size

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, size: Annotated[int, Depends(limit)]) -> dict[str, int]:
        return {"item_id": item_id, "size": size}

    return app


def test_module_layout_matches_fastapi() -> None:
    for name in ("_api", "_asgi", "_runtime"):
        assert importlib.import_module(f"hasten.telemetry.{name}")
    assert hasattr(_asgi, "NativeTelemetry") and hasattr(_runtime, "lifespan")


@pytest.mark.parametrize("cls", [FastAPI, Hasten])
def test_server_span_route_and_operations(signals: Signals, cls: type[Hasten]) -> None:
    client = TestClient(_item_app(signals.config(), cls))
    trace_id, parent_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    response = client.get(
        "/items/7?size=3&sig=secret",
        headers={"traceparent": f"00-{trace_id}-{parent_id}-01"},
    )
    assert response.json() == {"item_id": 7, "size": 3}
    server = signals.server()
    assert server.name == "GET /items/{item_id}"
    assert server.context.trace_id == int(trace_id, 16)
    assert server.parent.span_id == int(parent_id, 16)
    attributes = dict(server.attributes)
    assert attributes["http.route"] == "/items/{item_id}"
    assert attributes["http.response.status_code"] == 200
    assert attributes["url.path"] == "/items/7"
    assert attributes["url.query"] == "size=3&sig=REDACTED"
    assert server.status.status_code == StatusCode.UNSET
    assert signals.names() == [
        "GET /items/{item_id}",
        "fastapi.dependencies",
        "fastapi.endpoint",
        "fastapi.serialization",
    ]
    children = [s for s in signals.spans.get_finished_spans() if s is not server]
    assert all(s.parent.span_id == server.context.span_id for s in children)
    assert all(s.attributes["code.function.name"].endswith("read_item") for s in children)
    (point,) = signals.points()
    assert point.count == 1 and point.attributes["http.route"] == "/items/{item_id}"
    assert signals.points("http.server.active_requests")[0].value == 0


def test_operation_spans_off(signals: Signals) -> None:
    client = TestClient(_item_app(signals.config(operation_spans=False)))
    assert client.get("/items/1").status_code == 200
    assert signals.names() == ["GET /items/{item_id}"]


def test_without_providers_nothing_is_recorded(signals: Signals) -> None:
    # No provider in the configuration and no global provider configured: plain requests.
    app = _item_app(None)
    assert TestClient(app).get("/items/1").status_code == 200
    assert not app._native_telemetry.enabled()
    assert signals.spans.get_finished_spans() == ()


def test_all_signals_off_is_decided_once(signals: Signals) -> None:
    config = signals.config(tracing=False, metrics=False, logs=False)
    app = _item_app(config)
    assert TestClient(app).get("/items/1").status_code == 200
    assert not app._telemetry_possible
    # The app has no user middleware: one core stack, whose 500 responses are the plain layer's.
    assert type(app.middleware_stack._errors) is ServerErrorMiddleware
    assert signals.spans.get_finished_spans() == ()
    assert signals.points() == []
    traced = _item_app(signals.config())
    TestClient(traced).get("/items/1")
    assert type(traced.middleware_stack._errors) is _asgi.TelemetryServerErrors


def test_unhandled_error_span_metric_and_log(signals: Signals) -> None:
    app = FastAPI(telemetry=signals.config())

    @app.get("/fail")
    def fail() -> None:
        raise LookupError("broken")

    assert TestClient(app, raise_server_exceptions=False).get("/fail").status_code == 500
    server = signals.server()
    assert server.status.status_code == StatusCode.ERROR
    assert server.attributes["error.type"] == "LookupError"
    endpoint = next(s for s in signals.spans.get_finished_spans() if s.name == "fastapi.endpoint")
    assert endpoint.status.status_code == StatusCode.ERROR
    (record,) = signals.logs.get_finished_logs()
    assert record.log_record.event_name == "http.server.request.exception"
    assert record.log_record.attributes["http.route"] == "/fail"
    assert signals.points()[0].attributes["error.type"] == "LookupError"


def test_http_exception_is_not_an_error(signals: Signals) -> None:
    app = FastAPI(telemetry=signals.config())

    @app.get("/gone")
    def gone() -> None:
        raise HTTPException(404)

    assert TestClient(app).get("/gone").status_code == 404
    assert all(s.status.status_code == StatusCode.UNSET for s in signals.spans.get_finished_spans())
    assert not signals.logs.get_finished_logs()


def test_validation_failure_log_and_data(signals: Signals) -> None:
    seen: list[TelemetryData | None] = []
    contexts: list[Any] = []
    app = FastAPI(telemetry=signals.config())

    def dependency(request: Request) -> str:
        data = get_telemetry_data()
        seen.append(data)
        assert data is not None and data.request is request and data.values is None
        return "dep"

    @app.post("/items/{item_id}")
    def create(item_id: int, body: dict[str, int], dep: Annotated[str, Depends(dependency)]) -> int:
        data = get_telemetry_data()
        assert data is not None and data.values is not None
        assert data.values["body"] == {"a": 1} and data.body == {"a": 1}
        contexts.append(otel_context.get_current())
        return item_id

    client = TestClient(app)
    assert client.post("/items/3", json={"a": 1}).json() == 3
    assert get_telemetry_data() is None
    assert client.post("/items/x", json={"a": 1}).status_code == 422
    (record,) = signals.logs.get_finished_logs()
    assert record.log_record.event_name == "fastapi.validation.failed"
    assert dict(record.log_record.attributes) == {
        "fastapi.validation.error_count": 1,
        "http.route": "/items/{item_id}",
    }
    assert seen[0] is not None
    assert get_telemetry_data(contexts[0]) is None  # a retained context sees nothing afterwards


def test_websocket_span(signals: Signals) -> None:
    app = FastAPI(telemetry=signals.config())

    @app.websocket("/ws/{room}")
    async def chat(websocket: WebSocket, room: str) -> None:
        data = get_telemetry_data()
        assert data is not None and data.websocket is websocket
        await websocket.accept()
        await websocket.send_text(room)
        await websocket.close()

    with TestClient(app).websocket_connect("/ws/lobby") as ws:
        assert ws.receive_text() == "lobby"
    server = signals.server()
    assert server.name == "WS /ws/{room}"
    assert server.attributes["network.protocol.name"] == "websocket"
    assert "fastapi.endpoint" in signals.names()
    assert signals.points() == []  # HTTP metrics only


def test_background_task_span(signals: Signals) -> None:
    app = FastAPI(telemetry=signals.config())
    done: list[str] = []

    def work(name: str) -> None:
        done.append(name)

    @app.get("/")
    def endpoint(tasks: BackgroundTasks) -> str:
        tasks.add_task(work, "one")
        return "ok"

    assert TestClient(app).get("/").json() == "ok"
    assert done == ["one"]
    task = next(
        s for s in signals.spans.get_finished_spans() if s.name == "fastapi.background_task"
    )
    assert task.attributes["code.function.name"] == f"{__name__}.{work.__qualname__}"
    assert task.parent.span_id == signals.server().context.span_id


def test_exclude_and_mounted_route(signals: Signals) -> None:
    config = signals.config(exclude=lambda scope: scope["path"] == "/health")
    app = FastAPI(telemetry=config)
    child = FastAPI()

    @child.get("/items/{value}")
    def item(value: str) -> str:
        return value

    @app.get("/health")
    def health() -> str:
        return "ok"

    app.mount("/tenants/{tenant}", child)
    client = TestClient(app)
    assert client.get("/health").json() == "ok"
    assert signals.spans.get_finished_spans() == ()
    assert client.get("/tenants/acme/items/1").json() == "1"
    assert signals.server().attributes["http.route"] == "/tenants/{tenant}/items/{value}"


def test_unknown_method_and_slash_redirect(signals: Signals) -> None:
    app = FastAPI(telemetry=signals.config())

    @app.get("/ok")
    def ok() -> str:
        return "ok"

    client = TestClient(app)
    assert client.get("/ok/", follow_redirects=False).status_code == 307
    assert signals.server().name == "GET /ok"
    signals.spans.clear()
    assert client.request("BREW", "/nowhere").status_code == 404
    server = signals.server()
    assert server.name == "HTTP"
    assert server.attributes["http.request.method"] == "_OTHER"
    assert server.attributes["http.request.method_original"] == "BREW"


def test_export_endpoint_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    assert _runtime._export_endpoint("TRACES") == "http://collector:4318/v1/traces"
    monkeypatch.setenv("OTEL_LOGS_EXPORTER", "none")
    assert _runtime._export_endpoint("LOGS") is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    with pytest.raises(HastenError, match="http/protobuf"):
        _runtime._export_endpoint("METRICS")
