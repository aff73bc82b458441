"""Prometheus metrics, /health and /ready (docs/metrics.md)."""

# --8<-- [start:app]
from hasten import Hasten
from hasten.health import health_routes
from hasten.metrics import PrometheusMiddleware, metrics_route

app = Hasten()
app.add_middleware(PrometheusMiddleware)
metrics_route(app)  # GET /metrics


async def database() -> None:
    """A readiness check: raise (or return False) when not ready."""


health_routes(app, {"database": database}, timeout=2.0)  # GET /health, GET /ready


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, int]:
    return {"item_id": item_id}


# --8<-- [end:app]


def check(client):  # type: ignore[no-untyped-def]
    from prometheus_client.parser import text_string_to_metric_families

    def total() -> float:
        text = client.get("/metrics").text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = sample.labels
                if sample.name == "http_requests_total" and labels.get("status") == "200":
                    if labels["route"] == "/items/{item_id}":
                        return sample.value
        return 0.0

    before = total()  # the default registry may have seen other apps in this process
    client.get("/items/1")
    client.get("/items/2")
    assert total() == before + 2  # one series for both paths: the route template
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"status": "ready", "checks": {"database": "ok"}}
