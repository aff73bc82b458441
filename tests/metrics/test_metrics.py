"""PrometheusMiddleware and the /metrics route in one process: values after known requests
(read back through prometheus-client's parser), route templates, status codes, the in-progress
gauge, and the registry collectors being made once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from metrics_support import duration_count, requests_total, samples
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS

from hasten import APIRouter, FastAPI, Hasten, HTTPException, WebSocket
from hasten.metrics import HTTPMetrics, MetricsEndpoint, PrometheusMiddleware, metrics_route
from hasten.staticfiles import StaticFiles
from hasten.testclient import TestClient


def _app(cls: type[Hasten], registry: CollectorRegistry) -> Hasten:
    app = cls()
    app.add_middleware(PrometheusMiddleware, registry=registry)
    metrics_route(app, registry=registry)

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            raise HTTPException(404)
        return {"item_id": item_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/in-progress")
    async def in_progress() -> float:
        value = registry.get_sample_value("http_requests_in_progress")
        assert value is not None
        return value

    users = APIRouter(prefix="/users")

    @users.get("/{user_id}/orders/{order_id}")
    async def order(user_id: int, order_id: int) -> int:
        return order_id

    app.include_router(users)
    sub = cls()

    @sub.get("/things/{name}")
    async def thing(name: str) -> str:
        return name

    app.mount("/v2", sub)
    return app


@pytest.fixture(params=[Hasten, FastAPI], ids=["Hasten", "FastAPI"])
def setup(request: pytest.FixtureRequest) -> tuple[TestClient, CollectorRegistry]:
    registry = CollectorRegistry()
    return TestClient(_app(request.param, registry), raise_server_exceptions=False), registry


def test_counts_and_latency_by_route_template(
    setup: tuple[TestClient, CollectorRegistry],
) -> None:
    client, _ = setup
    for n in (1, 2, 3):
        assert client.get(f"/items/{n}").status_code == 200
    assert client.get("/items/0").status_code == 404
    assert client.get("/items/x").status_code == 422
    assert client.get("/users/7/orders/9").json() == 9
    assert client.get("/users/8/orders/1").json() == 1
    assert client.get("/v2/things/a").json() == "a"
    assert client.get("/v2/things/b").json() == "b"
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    parsed = samples(response.text)
    assert requests_total(parsed, "GET", "/items/{item_id}", 200) == 3.0
    assert requests_total(parsed, "GET", "/items/{item_id}", 404) == 1.0
    assert requests_total(parsed, "GET", "/items/{item_id}", 422) == 1.0
    assert duration_count(parsed, "GET", "/items/{item_id}", 200) == 3.0
    assert requests_total(parsed, "GET", "/users/{user_id}/orders/{order_id}", 200) == 2.0
    assert requests_total(parsed, "GET", "/v2/things/{name}", 200) == 2.0
    # No raw path is ever a label value.
    routes = {dict(labels).get("route") for (_, labels) in parsed}
    assert not {"/items/1", "/items/0", "/users/7/orders/9", "/v2/things/a"} & routes
    total = ("http_request_duration_seconds_sum",)
    latency = [v for (name, labels), v in parsed.items() if (name,) == total]
    assert latency and all(v > 0 for v in latency)
    # Every request sits in one bucket at most as large as +Inf: the buckets are cumulative.
    key = (("le", "+Inf"), ("method", "GET"), ("route", "/items/{item_id}"), ("status", "200"))
    assert parsed[("http_request_duration_seconds_bucket", key)] == 3.0


def test_unmatched_errors_and_methods(setup: tuple[TestClient, CollectorRegistry]) -> None:
    client, _ = setup
    assert client.get("/nowhere/1").status_code == 404
    assert client.get("/nowhere/2").status_code == 404
    assert client.delete("/items/1").status_code == 405
    assert client.get("/boom").status_code == 500
    assert client.request("BREW", "/items/1").status_code == 405
    parsed = samples(client.get("/metrics").text)
    assert requests_total(parsed, "GET", "<unmatched>", 404) == 2.0
    assert requests_total(parsed, "DELETE", "/items/{item_id}", 405) == 1.0
    assert requests_total(parsed, "GET", "/boom", 500) == 1.0
    assert requests_total(parsed, "OTHER", "/items/{item_id}", 405) == 1.0


def test_in_progress_gauge(setup: tuple[TestClient, CollectorRegistry]) -> None:
    client, registry = setup
    assert client.get("/in-progress").json() == 1.0  # the request itself, while it runs
    assert registry.get_sample_value("http_requests_in_progress") == 0.0
    parsed = samples(client.get("/metrics").text)
    assert parsed[("http_requests_in_progress", ())] == 1.0  # the scrape itself


def test_metrics_endpoint_head_and_openmetrics(
    setup: tuple[TestClient, CollectorRegistry],
) -> None:
    client, _ = setup
    client.get("/items/1")
    response = client.get("/metrics", headers={"accept": "application/openmetrics-text"})
    assert response.headers["content-type"] == OPENMETRICS
    assert response.text.endswith("# EOF\n")
    assert 'http_requests_total{method="GET",route="/items/{item_id}",status="200"} 1.0' in (
        response.text
    )
    head = client.head("/metrics")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 0
    assert client.post("/metrics").status_code == 405


def test_static_mount_is_labelled_by_its_prefix(tmp_path: object) -> None:
    from pathlib import Path

    directory = Path(str(tmp_path))
    (directory / "a.txt").write_text("a")
    registry = CollectorRegistry()
    app = Hasten()
    app.add_middleware(PrometheusMiddleware, registry=registry)
    app.mount("/static", StaticFiles(directory=directory))
    client = TestClient(app)
    assert client.get("/static/a.txt").text == "a"
    assert client.get("/static/b.txt").status_code == 404
    value = registry.get_sample_value
    labels = {"method": "GET", "route": "/static"}
    assert value("http_requests_total", {**labels, "status": "200"}) == 1.0
    assert value("http_requests_total", {**labels, "status": "404"}) == 1.0


def test_collectors_are_made_once_per_registry() -> None:
    registry = CollectorRegistry()
    app = Hasten()
    app.add_middleware(PrometheusMiddleware, registry=registry)

    @app.get("/")
    async def root() -> str:
        return "ok"

    client = TestClient(app)
    client.get("/")
    app.middleware_stack = None  # built again: the same collectors, no duplicate error
    client.get("/")
    assert HTTPMetrics.for_registry(registry) is HTTPMetrics.for_registry(registry)
    labels = {"method": "GET", "route": "/", "status": "200"}
    assert registry.get_sample_value("http_requests_total", labels) == 2.0
    other = HTTPMetrics.for_registry(registry, namespace="shop")
    other.record("GET", "/", 200, 0.01)
    assert registry.get_sample_value("shop_http_requests_total", labels) == 1.0


def test_websockets_and_lifespan_pass_through() -> None:
    registry = CollectorRegistry()
    app = Hasten()
    app.add_middleware(PrometheusMiddleware, registry=registry)

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    with TestClient(app) as client, client.websocket_connect("/ws") as websocket:
        assert websocket.receive_text() == "hi"
    assert registry.get_sample_value("http_requests_in_progress") == 0.0
    assert not [s for m in registry.collect() if m.name == "http_requests" for s in m.samples]


def test_default_registry_endpoint() -> None:
    endpoint = MetricsEndpoint()
    assert endpoint.registry is REGISTRY
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "headers": []}
    asyncio.run(endpoint(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 200
    assert b"python_info" in sent[1]["body"]  # type: ignore[operator]


def _values(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The samples of ``registry`` but the creation times and the in-progress gauge."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
        if not s.name.endswith("_created") and s.name != "http_requests_in_progress"
    }


def _reference(buckets: tuple[float, ...]) -> tuple[CollectorRegistry, Any, Any]:
    """prometheus-client's own Counter and Histogram of the same series, in a registry."""
    from prometheus_client import Counter, Histogram

    registry = CollectorRegistry()
    labels = ["method", "route", "status"]
    counter = Counter("http_requests_total", "x", labels, registry=registry)
    histogram = Histogram(
        "http_request_duration_seconds", "x", labels, buckets=buckets, registry=registry
    )
    return registry, counter, histogram


def test_series_read_as_prometheus_clients_own_metrics_would() -> None:
    """The one-process series expose what prometheus-client's Counter and Histogram expose
    for the same observations (buckets cumulative, sum, count, +Inf)."""
    ours = CollectorRegistry()
    metrics = HTTPMetrics(ours, buckets=(0.01, 0.1, 1.0))
    theirs, counter, histogram = _reference((0.01, 0.1, 1.0))
    for seconds, status in [(0.003, 200), (0.01, 200), (0.05, 200), (2.5, 200), (0.2, 500)]:
        metrics.record("GET", "/a/{b}", status, seconds)
        counter.labels("GET", "/a/{b}", str(status)).inc()
        histogram.labels("GET", "/a/{b}", str(status)).observe(seconds)

    assert _values(ours) == _values(theirs)
    bucket = ("le", "0.01"), ("method", "GET"), ("route", "/a/{b}"), ("status", "200")
    assert _values(ours)[("http_request_duration_seconds_bucket", bucket)] == 2.0  # le is <=


def test_durations_noted_between_scrapes_are_folded_in_as_they_grow() -> None:
    """A series folds what it noted once it holds ``_FOLD_AT`` durations, so nothing grows
    without a scrape; the totals are what prometheus-client's Histogram gives."""
    import hasten.metrics

    ours = CollectorRegistry()
    metrics = HTTPMetrics(ours, buckets=(0.01, 0.1, 1.0))
    theirs, counter, histogram = _reference((0.01, 0.1, 1.0))
    durations = [(n % 37) * 0.004 for n in range(3 * hasten.metrics._FOLD_AT + 5)]
    for seconds in durations:
        metrics.record("GET", "/a", 200, seconds)
        counter.labels("GET", "/a", "200").inc()
        histogram.labels("GET", "/a", "200").observe(seconds)
    series = metrics._series["GET", "/a", 200]
    assert len(series) == 5  # three folds so far
    mine, reference = _values(ours), _values(theirs)
    labels = ("method", "GET"), ("route", "/a"), ("status", "200")
    sum_key = ("http_request_duration_seconds_sum", labels)
    assert mine.pop(sum_key) == pytest.approx(reference.pop(sum_key))
    assert mine[("http_requests_total", labels)] == len(durations)
    assert mine == reference
    assert len(series) == 0  # the scrape folded the rest


def test_series_stay_exact_when_threads_note_and_scrape_at_once() -> None:
    """Appends need no lock: durations noted while another thread folds are kept for the
    next fold, never lost or counted twice."""
    import sys
    import threading

    registry = CollectorRegistry()
    metrics = HTTPMetrics(registry, buckets=(0.5,))
    per_thread, threads = 20_000, 4
    done = threading.Event()
    scrapes = [0]

    def note() -> None:
        for n in range(per_thread):
            metrics.record("GET", "/a", 200, 0.25 if n % 2 else 0.75)

    def scrape() -> None:
        while not done.is_set():
            registry.collect()
            scrapes[0] += 1

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        scraper = threading.Thread(target=scrape)
        scraper.start()
        workers = [threading.Thread(target=note) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        done.set()
        scraper.join()
    finally:
        sys.setswitchinterval(interval)
    values = _values(registry)
    labels = ("method", "GET"), ("route", "/a"), ("status", "200")
    total = per_thread * threads
    assert scrapes[0] > 1
    assert values[("http_requests_total", labels)] == total
    assert values[("http_request_duration_seconds_bucket", (("le", "0.5"), *labels))] == total / 2
    assert values[("http_request_duration_seconds_sum", labels)] == total * 0.5


def test_the_middlewares_series_read_as_prometheus_clients_own_metrics_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Requests counted by the middleware (its ``leave``, not ``record``) land in the buckets
    prometheus-client's Histogram puts the same durations in, the first bound included."""
    import hasten.metrics

    durations = [0.003, 0.01, 0.0100001, 0.05, 2.5, 1.0]
    ticks = iter([tick for seconds in durations for tick in (0.0, seconds)])
    monkeypatch.setattr(hasten.metrics, "_clock", lambda: next(ticks))
    ours = CollectorRegistry()
    app = Hasten()

    @app.get("/a/{b}")
    async def a(b: int) -> int:
        return b

    app.add_middleware(PrometheusMiddleware, registry=ours, buckets=(0.01, 0.1, 1.0))
    theirs, counter, histogram = _reference((0.01, 0.1, 1.0))
    client = TestClient(app)
    for n, seconds in enumerate(durations):
        assert client.get(f"/a/{n}").status_code == 200
        counter.labels("GET", "/a/{b}", "200").inc()
        histogram.labels("GET", "/a/{b}", "200").observe(seconds)

    assert _values(ours) == _values(theirs)
    bucket = ("le", "0.01"), ("method", "GET"), ("route", "/a/{b}"), ("status", "200")
    assert _values(ours)[("http_request_duration_seconds_bucket", bucket)] == 2.0  # le is <=


def test_metrics_route_as_a_documented_path_operation() -> None:
    registry = CollectorRegistry()
    router = APIRouter()
    metrics_route(router, "/prometheus", registry=registry, include_in_schema=True, tags=["ops"])
    app = Hasten()
    app.add_middleware(PrometheusMiddleware, registry=registry)
    app.include_router(router, prefix="/ops")
    client = TestClient(app)
    client.get("/ops/prometheus")
    response = client.get("/ops/prometheus")
    assert response.headers["content-type"].startswith("text/plain; version=")
    parsed = samples(response.text)
    assert requests_total(parsed, "GET", "/ops/prometheus", 200) == 1.0
    response = client.get("/ops/prometheus", headers={"accept": "application/openmetrics-text"})
    assert response.headers["content-type"] == OPENMETRICS
    operation = client.get("/openapi.json").json()["paths"]["/ops/prometheus"]["get"]
    assert operation["tags"] == ["ops"]
    documented = list(operation["responses"]["200"]["content"])
    assert documented == [client.get("/ops/prometheus").headers["content-type"]]


def test_a_plain_metrics_route_is_not_in_the_document() -> None:
    app = Hasten()
    metrics_route(app, registry=CollectorRegistry())
    assert "/metrics" not in TestClient(app).get("/openapi.json").json()["paths"]
