"""The docs pages in a real browser, with every network but 127.0.0.1 blocked.

Headless Chromium (Debian's ``chromium`` package; ``./scripts/test`` installs it where apt-get is
available) is driven over the Chrome DevTools Protocol. The demo app (``Hasten``: docs assets
bundled) is served by uvicorn on a free port of 127.0.0.1. Host names resolve to nothing and
the proxy for everything but 127.0.0.1 is a closed port, so a page that needed a CDN would not
render; on top of that, every request the page sends is recorded and checked.

Screenshots go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.sync.client import ClientConnection, connect

from examples.demo.main import app as demo_app

CHROMIUM = (
    os.environ.get("HASTEN_TEST_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is not installed (./scripts/test installs Debian's chromium package)",
    ),
    pytest.mark.timeout(300),
]

# Schemes a page may use without the network.
LOCAL_SCHEMES = ("data:", "blob:", "about:")


class Page:
    """A CDP session on one page target: commands, recorded events, polling helpers."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, timeout: float = 60, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 90) -> Any:
        """Poll ``expression`` until it is truthy; fail with the page's text after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                text = self.evaluate("document.body ? document.body.innerText : ''")
                raise AssertionError(f"not true after {timeout}s: {expression}\n{text[:2000]}")
            time.sleep(0.25)

    def goto(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def click(self, selector: str) -> None:
        self.wait_for(f"!!document.querySelector({json.dumps(selector)})")
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path = ARTIFACTS / name
        path.write_bytes(base64.b64decode(data))
        return path

    def requested_urls(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def failed_requests(self) -> list[dict[str, Any]]:
        return [e["params"] for e in self.events if e.get("method") == "Network.loadingFailed"]

    def exceptions(self) -> list[dict[str, Any]]:
        return [e["params"] for e in self.events if e.get("method") == "Runtime.exceptionThrown"]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The demo app, served by uvicorn on a free port of 127.0.0.1 in a thread."""
    config = uvicorn.Config(
        demo_app, host="127.0.0.1", port=0, log_level="warning", ws="none", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def _start_chromium(profile: Path) -> subprocess.Popen[bytes]:
    assert CHROMIUM is not None
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
        "--disable-background-networking",
        "--disable-extensions",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        f"--user-data-dir={profile}",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        # nothing resolves but 127.0.0.1, and everything else goes to a closed proxy port
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1",
        "--window-size=1280,1400",
        "about:blank",
    ]
    return subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def _devtools_port(profile: Path, process: subprocess.Popen[bytes]) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while not (marker.exists() and marker.read_text().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"Chromium did not start (exit status {process.poll()})")
        time.sleep(0.1)
    return int(marker.read_text().split()[0])


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = _start_chromium(profile)
    try:
        port = _devtools_port(profile, process)
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", trust_env=False).json()
        target = next(t for t in targets if t["type"] == "page")
        with connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=30) as ws:
            session = Page(ws)
            for domain in ("Page", "Network", "Runtime"):
                session.call(f"{domain}.enable")
            session.call("Network.setCacheDisabled", cacheDisabled=True)
            yield session
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _assert_only_local(page: Page, base_url: str) -> list[str]:
    urls = page.requested_urls()
    remote = [u for u in urls if not u.startswith((f"{base_url}/", *LOCAL_SCHEMES))]
    assert remote == [], f"requests that left {base_url}: {remote}"
    assert page.failed_requests() == []
    assert page.exceptions() == []
    return urls


def test_swagger_ui_renders_and_executes_offline(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/docs")
    count = page.wait_for(
        "document.querySelectorAll('.opblock').length >= 9 && "
        "document.querySelectorAll('.opblock').length"
    )
    assert count == 9  # the demo's nine operations
    paths = page.evaluate(
        "[...document.querySelectorAll('.opblock-summary-path')].map(e => e.innerText.trim())"
    )
    assert "/items/{item_id}" in paths
    assert page.evaluate("document.querySelector('.info .title').innerText").startswith(
        "Hasten demo"
    )
    page.screenshot("docs-swagger.png")

    operation = "#operations-meta-root__get"
    page.click(f"{operation} .opblock-summary-control")
    page.click(f"{operation} .try-out__btn")
    page.click(f"{operation} .btn.execute")
    body = page.wait_for(
        f"(document.querySelector('{operation} .live-responses-table tr.response"
        " .response-col_description')"
        " || {}).innerText"
    )
    assert "Hello from Hasten" in body
    status_cell = f"{operation} .live-responses-table tr.response .response-col_status"
    assert page.evaluate(f"document.querySelector('{status_cell}').innerText.trim()") == "200"
    page.screenshot("docs-swagger-execute.png")

    urls = _assert_only_local(page, base_url)
    assert f"{base_url}/" in urls  # the executed request itself
    assert any("/docs/static/swagger-ui-bundle.js" in u for u in urls)
    assert f"{base_url}/openapi.json" in urls


def test_redoc_renders_offline(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/redoc")
    page.wait_for("document.querySelectorAll('[data-section-id*=\"operation/\"]').length >= 9")
    headings = page.evaluate(
        "[...document.querySelectorAll('[data-section-id*=\"operation/\"] h2')]"
        ".map(e => e.innerText.trim())"
    )
    assert "Create Item" in headings
    assert "Read Item" in headings
    assert "Hasten demo" in page.evaluate("document.querySelector('h1').innerText")
    page.screenshot("docs-redoc.png")
    urls = _assert_only_local(page, base_url)
    assert any("/docs/static/redoc.standalone.js" in u for u in urls)


def test_the_browser_cannot_reach_the_internet(page: Page, base_url: str) -> None:
    # What the two tests above rely on: a page needing the CDN could not load it here.
    page.goto(f"{base_url}/openapi.json")
    outcome = page.evaluate(
        "fetch('https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css')"
        ".then(() => 'loaded', () => 'blocked')"
    )
    assert outcome == "blocked"
    local = page.evaluate(f"fetch('{base_url}/openapi.json').then(r => r.status)")
    assert local == 200
