"""Multiprocess mode with real uvicorn processes sharing PROMETHEUS_MULTIPROC_DIR: any
process's /metrics sums the requests every process answered."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
from metrics_support import requests_total, samples, uvicorn, wait_for


def _get(port: int, path: str) -> httpx.Response:
    # A new connection each time, so a blocked worker's keep-alive connection is never reused.
    with httpx.Client(timeout=30) as client:
        return client.get(f"http://127.0.0.1:{port}{path}")


def _env(tmp_path: Path) -> dict[str, str]:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    return {
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "METRICS_HELD": str(tmp_path / "held"),
        "METRICS_RELEASE": str(tmp_path / "release"),
    }


def test_two_workers_sum_their_metrics(tmp_path: Path) -> None:
    env = _env(tmp_path)
    with uvicorn("mp_app:app", tmp_path / "log", env, "--workers", "2") as port:
        held: list[httpx.Response] = []
        holder = threading.Thread(target=lambda: held.append(_get(port, "/hold")))
        holder.start()
        try:
            wait_for(tmp_path / "held")
            blocked = int((tmp_path / "held").read_text())
            # The blocked worker accepts nothing: the other one answers these.
            pids = {_get(port, f"/items/{n}").json()["pid"] for n in (1, 2, 3)}
            assert len(pids) == 1 and blocked not in pids
            during = samples(_get(port, "/metrics").text)
            assert requests_total(during, "GET", "/items/{item_id}", 200) == 3.0
            assert requests_total(during, "GET", "/hold", 200) is None
            # livesum: the held request (one worker) and this scrape (the other).
            assert during[("http_requests_in_progress", ())] == 2.0
        finally:
            (tmp_path / "release").write_text("go")
            holder.join(timeout=30)
        assert held and held[0].json()["pid"] == blocked
        after = samples(_get(port, "/metrics").text)
        assert requests_total(after, "GET", "/items/{item_id}", 200) == 3.0
        assert requests_total(after, "GET", "/hold", 200) == 1.0  # counted by the other worker
        assert requests_total(after, "GET", "/metrics", 200) == 1.0  # the first scrape
        assert after[("http_requests_in_progress", ())] == 1.0
        counts = [
            value
            for (name, labels), value in after.items()
            if name == "http_request_duration_seconds_count" and ("route", "/hold") in labels
        ]
        assert counts == [1.0]
    files = sorted(p.name.split("_")[0] for p in (tmp_path / "prometheus").iterdir())
    assert "counter" in files and "histogram" in files and "gauge" in files


def test_two_servers_on_two_ports_share_one_directory(tmp_path: Path) -> None:
    env = _env(tmp_path)
    with (
        uvicorn("mp_app:app", tmp_path / "log-a", env) as port_a,
        uvicorn("mp_app:app", tmp_path / "log-b", env) as port_b,
    ):
        pid_a = {_get(port_a, f"/items/{n}").json()["pid"] for n in range(4)}
        pid_b = {_get(port_b, f"/items/{n}").json()["pid"] for n in range(7)}
        assert len(pid_a | pid_b) == 2
        for port in (port_a, port_b):
            parsed = samples(_get(port, "/metrics").text)
            assert requests_total(parsed, "GET", "/items/{item_id}", 200) == 11.0
