"""Fixtures for the browser tests: a real `streamlit run` server and a Chromium page.

The server runs the dashboard from the repository root on a free loopback port, with its own
temporary run store (RUNS_DIR) holding one small "older run", and without MNIST_DIR, so it uses
the offline 5,000-digit sample and the quick model trains in seconds.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from core.config import TrainConfig
from core.data import load_sample
from core.experiment import run_experiment
from core.runs import RunInfo, RunStore
from tests.browser.helpers import REPO_ROOT, ConsoleLog, assert_no_exception_boxes, screenshot

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}
HEALTH_TIMEOUT_SECONDS = 90
DEFAULT_TIMEOUT_MS = 30_000

OLDER_RUN = TrainConfig.for_arch("mlp", hidden_units=(32,), epochs=2, seed=3, name="older run")
# The same configuration as the Home page's "Train a quick model" button (pages/home.py).
QUICK_MODEL = TrainConfig.for_arch("mlp", epochs=3, name="quick mlp")


@dataclass(frozen=True)
class StreamlitServer:
    url: str
    runs_dir: Path
    log_path: Path
    older_run: RunInfo

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def tracebacks_since(self, offset: int) -> str:
        """Python tracebacks the server logged after byte `offset` of its log."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", errors="replace")
        return text if "Traceback (most recent call last)" in text else ""


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(runs_dir: Path, keras_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MNIST_DIR", None)  # no full MNIST: the loader falls back to the offline sample
    env.update(
        RUNS_DIR=str(runs_dir),
        # Keras' MNIST cache lives in KERAS_HOME: an empty one, and a proxy that refuses every
        # connection, make "Keras' dataset module" fail at once even on a machine that is online
        # or has ~/.keras/datasets/mnist.npz, so the server always uses the 5,000-digit sample.
        KERAS_HOME=str(keras_home),
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    return env


def wait_for_health(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"streamlit exited with code {process.returncode}:\n{log_path.read_text(errors='replace')}"
            )
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(
        f"streamlit did not answer ok on /_stcore/health within {HEALTH_TIMEOUT_SECONDS} s:\n"
        + log_path.read_text(errors="replace")
    )


def stop_process_group(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory) -> Iterator[StreamlitServer]:
    """`streamlit run dashboard/Home.py` on a free loopback port, stopped after the session."""
    root = tmp_path_factory.mktemp("browser-server")
    runs_dir, keras_home, log_path = root / "runs", root / "keras-home", root / "streamlit.log"
    runs_dir.mkdir()
    keras_home.mkdir()
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "streamlit", "run", "dashboard/Home.py",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        # Source edits during a test run must not put a "Source file changed" prompt on the
        # page (it would hold the status widget open); the tests exercise the code as started.
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=server_environment(runs_dir, keras_home),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown stops all its children
        )
    try:
        # Train the "older run" while the server boots; saving is atomic, so the server never
        # sees half a run.
        older = run_experiment(OLDER_RUN, load_sample(), RunStore(runs_dir))
        wait_for_health(url, process, log_path)
        yield StreamlitServer(url, runs_dir, log_path, older.run)
    finally:
        stop_process_group(process)


@pytest.fixture(scope="session")
def quick_run(streamlit_server) -> RunInfo:
    """A run of the Home page's quick model in the server's store.

    test_train_quick_model_from_home makes one through the UI; when it did not run (or failed
    before saving), the same configuration is trained here, so every other test stands alone.
    """
    store = RunStore(streamlit_server.runs_dir)
    runs, _ = store.list_runs()
    for run in runs:
        if run.run_id.endswith("-quick-mlp"):
            return run
    return run_experiment(QUICK_MODEL, load_sample(), store).run


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make chromium` installs it (apt)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class AppSession:
    """One browser page on the app (a Streamlit session of its own) and what it logged."""

    page: Page
    console: ConsoleLog
    server: StreamlitServer

    def check(self) -> None:
        """No Streamlit exception box on the page and no browser console error so far."""
        assert_no_exception_boxes(self.page)
        self.console.assert_clean()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def app(request, browser, streamlit_server) -> Iterator[AppSession]:
    """A fresh browser context and page on the app, with console errors collected throughout.

    At the end the test fails if the browser logged an error or the server logged a traceback.
    A failed test leaves a screenshot of the page as artifacts/screenshots/FAILED-<test>.png.
    """
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    session = AppSession(page, ConsoleLog(page), streamlit_server)
    log_offset = streamlit_server.log_size()
    yield session
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        screenshot(page, f"FAILED-{request.node.name}")
    context.close()
    session.console.assert_clean()
    traceback = streamlit_server.tracebacks_since(log_offset)
    assert not traceback, f"the server logged a traceback during the test:\n{traceback}"
