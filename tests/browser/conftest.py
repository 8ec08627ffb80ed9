"""Fixtures for the browser tests: a real `streamlit run` server and a Chromium page.

The server runs the dashboard from the repository root on a free loopback port, with its own
temporary run store (RUNS_DIR) holding one small "older run", and without MNIST_DIR, so it uses
the offline 5,000-digit sample and the quick model trains in seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from core.config import QUICK_MODEL, TrainConfig
from core.data import load_sample
from core.experiment import run_experiment
from core.runs import RunInfo, RunStore
from dashboard.server_process import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    free_loopback_port,
    server_environment,
    start_streamlit,
    stop_process_group,
    wait_for_health,
)
from tests.support.browser import DEFAULT_TIMEOUT_MS, ConsoleLog, assert_no_exception_boxes, screenshot

OLDER_RUN = TrainConfig.for_arch("mlp", hidden_units=(32,), epochs=2, seed=3, name="older run")


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


@pytest.fixture(scope="session")
def streamlit_server(tmp_path_factory) -> Iterator[StreamlitServer]:
    """`streamlit run dashboard/Home.py` on a free loopback port, stopped after the session."""
    root = tmp_path_factory.mktemp("browser-server")
    runs_dir, keras_home, log_path = root / "runs", root / "keras-home", root / "streamlit.log"
    runs_dir.mkdir()
    keras_home.mkdir()
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    process = start_streamlit(port, server_environment(runs_dir, keras_home), log_path)
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
def playwright_driver():
    """Playwright itself: its Chromium launcher and its device descriptors (phones)."""
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_driver):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make chromium` installs it (apt)")
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
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
