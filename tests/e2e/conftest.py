"""Playwright fixtures: a real server (``python -m csp_data.ui.serve``, as ``make run``) on 127.0.0.1 and a free port, and
Debian's chromium (``/usr/bin/chromium``; browser downloads are impossible here, CI installs it).

Every browser context aborts requests to any host other than 127.0.0.1/localhost, so the tests
run offline, and records them, so a test can fail on any attempt to reach the internet.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]  # tests/e2e/conftest.py -> repo root
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
RESERVED_PORTS = {8501, 8599}  # Streamlit's default, and an app someone else runs
START_DEADLINE = 90.0  # seconds to wait for /_stcore/health

# Selectors and waits every browser test uses (Streamlit 1.67 markup).
APP = "[data-testid=stApp]"
CONNECTED = f"{APP}[data-test-connection-state=CONNECTED]"
NOT_RUNNING = f"{APP}[data-test-script-state=notRunning]"
MAIN = "[data-testid=stMain]"
MAIN_H1 = f"{MAIN} h1"
EXCEPTION = "[data-testid=stException]"
# An element whose code Streamlit is still fetching (a React.lazy chunk: st.table, Vega charts and
# more) is drawn as this placeholder until it arrives, which can be well after the run has ended.
SKELETON = "[data-testid=stSkeleton]"
# An element of the previous run, not yet replaced by this one.
STALE = "[data-stale=true]"
CHART = ".vega-embed"
DECK = "[data-testid=stDeckGlJsonChart]"
SETTLE_TIMEOUT_MS = 90_000  # generous: a busy machine is slow, never wrong

# True when the script run has finished and every element it sent is drawn: no placeholder is
# waiting for its code, nothing of an earlier run is left, every Vega chart has drawn its marks
# and every map has its canvas.
SETTLED_JS = """([app, skeleton, stale, chart, deck]) => {
    const a = document.querySelector(app);
    return !!a && a.getAttribute('data-test-script-state') === 'notRunning'
        && a.getAttribute('data-test-connection-state') === 'CONNECTED'
        && !document.querySelector(skeleton) && !document.querySelector(stale)
        && [...document.querySelectorAll(chart)].every(c => c.querySelector('svg, canvas'))
        && [...document.querySelectorAll(deck)].every(d => d.querySelector('canvas'));
}"""


def wait_settled(page, timeout: float = SETTLE_TIMEOUT_MS) -> None:
    """Wait (polling the page's state) until the script run has finished and everything it sent
    is drawn (``SETTLED_JS``). Polls by interval, not animation frame: chromium may run no
    animation frames for a very tall viewport."""
    page.wait_for_function(SETTLED_JS, arg=[APP, SKELETON, STALE, CHART, DECK], polling=100, timeout=timeout)


def settle(page, timeout: float = SETTLE_TIMEOUT_MS) -> None:
    """Wait until the session is connected, the first run has drawn something (a heading or an
    exception: before it the script state is "initial") and that run has finished with every
    element drawn. State only, never a fixed pause; after an interaction, first wait for a sign
    that its rerun has started (the address bar, a new heading), then settle."""
    page.wait_for_selector(CONNECTED, state="attached", timeout=timeout)
    page.locator(f"{MAIN_H1}, {EXCEPTION}").first.wait_for(state="attached", timeout=timeout)
    wait_settled(page, timeout)


def map_colours(deck) -> int:
    """How many colours the map's screenshot holds (a blank box has a handful)."""
    img = Image.open(io.BytesIO(deck.screenshot())).convert("RGB")
    return len(img.getcolors(maxcolors=1 << 20) or [])


def wait_map_drawn(deck, minimum: int = 20, timeout: float = SETTLE_TIMEOUT_MS / 1000) -> int:
    """Poll the map's drawn image (each screenshot waits for a new frame) until it holds more than
    ``minimum`` colours, or ``timeout`` seconds pass; returns the last count for the caller's
    assertion. deck.gl draws its layers over several frames after the canvas appears."""
    deadline = time.monotonic() + timeout
    colours = map_colours(deck)
    while colours <= minimum and time.monotonic() < deadline:
        colours = map_colours(deck)
    return colours


def load(page, url: str) -> None:
    """Open ``url`` and wait until the script run that draws it has finished."""
    page.goto(url, wait_until="domcontentloaded")
    settle(page)


def assert_offline(page) -> None:
    """The page (an ``app_page``) asked for something, and nothing left the machine."""
    traffic = page.traffic
    assert traffic.requests, "no requests were recorded: the recorder is not attached"
    assert not traffic.outside, f"requests left the machine: {traffic.outside}"


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: end-to-end test driving chromium against `streamlit run app.py`")


def is_local(url: str) -> bool:
    """True for loopback URLs and for URLs that never touch the network (data:, blob:, about:)."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname in LOCAL_HOSTS


def free_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


@dataclass
class Server:
    mode: str
    port: int
    proc: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the server's own process group only
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            pass


def start_server(mode: str, log_dir: Path, extra_args: tuple[str, ...] = ()) -> Server:
    port = free_port()
    log_path = log_dir / f"streamlit-{mode}-{port}.log"
    env = {**os.environ, "CSP_MODE": mode, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "csp_data.ui.serve",  # what `make run` uses (see docs/ARCHITECTURE.md)
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        *extra_args,
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = Server(mode, port, proc, log_path)
    deadline = time.monotonic() + START_DEADLINE
    while True:
        if proc.poll() is not None:
            pytest.fail(
                f"streamlit ({mode}) exited with {proc.returncode} before it was ready:\n{server.log()}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200 and resp.read().strip() == b"ok":
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            pytest.fail(
                f"streamlit ({mode}) not healthy on port {port} within {START_DEADLINE:.0f}s:\n{server.log()}"
            )
        time.sleep(0.25)


def _server(mode: str, tmp_path_factory) -> Server:
    server = start_server(mode, tmp_path_factory.mktemp(f"streamlit_{mode}"))
    return server


@pytest.fixture(scope="session")
def internal_server(warehouse, tmp_path_factory):
    server = _server("internal", tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def public_server(warehouse, tmp_path_factory):
    server = _server("public", tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium_browser():
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); "
            "the e2e tests drive it through Playwright and never download a browser."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Traffic:
    """Every URL the page asked for, and the ones that left the machine."""

    requests: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)

    @property
    def outside(self) -> list[str]:
        return [u for u in self.requests + self.websockets if not is_local(u)]


def open_context_page(browser, **context_args):
    """A new browser context (a new Streamlit session) and page: requests to any other host are
    aborted, and every request and websocket is recorded in ``page.traffic``."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, **context_args)
    context.route(lambda url: not is_local(url), lambda route: route.abort())
    pg = context.new_page()
    traffic = Traffic()
    pg.on("request", lambda req: traffic.requests.append(req.url))
    pg.on("websocket", lambda ws: traffic.websockets.append(ws.url))
    pg.traffic = traffic
    pg.set_default_timeout(60_000)
    return context, pg


@pytest.fixture
def app_page(chromium_browser):
    """A fresh browser context (a new Streamlit session) per test, offline, with traffic recorded."""
    context, pg = open_context_page(chromium_browser, accept_downloads=True)
    yield pg
    context.close()


@pytest.fixture
def fresh_internal_server(warehouse, tmp_path):
    """A server of its own, started for one test: its first request is that test's."""
    server = start_server("internal", tmp_path)
    yield server
    server.stop()


# A sign-in deployment for the access tests: [auth] and [access] from a secrets file of the
# test's own (never the repository's). The provider is not real: nobody signs in; the tests check
# what a signed-out visitor gets.
TEST_SECRETS = """
[auth]
redirect_uri = "http://127.0.0.1:8501/oauth2callback"
cookie_secret = "test-only-cookie-secret"
client_id = "test-client"
client_secret = "test-secret"
server_metadata_url = "https://idp.invalid/.well-known/openid-configuration"

[access]
analyst = ["@met.police.uk"]
"""


def secrets_server(tmp_path_factory, name: str, secrets_text: str):
    """An internal server whose only secrets file holds ``secrets_text`` (in a private folder)."""
    folder = tmp_path_factory.mktemp(name)
    secrets = folder / "secrets.toml"
    secrets.write_text(secrets_text)
    return start_server("internal", folder, ("--secrets.files", str(secrets)))


@pytest.fixture(scope="session")
def signin_server(warehouse, tmp_path_factory):
    server = secrets_server(tmp_path_factory, "streamlit_signin", TEST_SECRETS)
    yield server
    server.stop()
