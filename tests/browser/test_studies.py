"""The Studies page in Chromium, on a server of its own whose run store holds a small study in its journal file.

Screenshots: artifacts/screenshots/80-studies.png (the study), 81-studies-loaded.png (its best trial loaded).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from core.data import load_sample
from core.runs import RunStore
from core.study_storage import default_journal, open_storage
from core.tuning import RUN_ATTR, run_study
from dashboard.server_process import (
    VIEWPORT,
    free_loopback_port,
    server_environment,
    start_streamlit,
    stop_process_group,
    wait_for_health,
)
from tests.support.browser import (
    MAIN,
    ConsoleLog,
    assert_charts_drawn,
    assert_no_exception_boxes,
    metric_value,
    open_app,
    screenshot,
    select_option,
    selectbox_options,
    sidebar,
    wait_for_app,
)

TRIALS = 4


@dataclass(frozen=True)
class StudyServer:
    url: str
    best_run: str


@pytest.fixture(scope="module")
def study_server(tmp_path_factory) -> Iterator[StudyServer]:
    root = tmp_path_factory.mktemp("studies-server")
    runs_dir, keras_home, log_path = root / "runs", root / "keras-home", root / "streamlit.log"
    runs_dir.mkdir()
    keras_home.mkdir()
    port = free_loopback_port()
    process = start_streamlit(port, server_environment(runs_dir, keras_home), log_path)
    try:
        storage = open_storage(default_journal(runs_dir), heartbeat=30)  # the store's own journal file
        result = run_study(
            load_sample(),
            RunStore(runs_dir),
            study_name="browser-study",
            trials=TRIALS,
            minutes=5,
            archs=["mlp"],
            epochs=1,
            train_limit=600,
            storage=storage,
            pruning=False,
        )
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, process, log_path)
        yield StudyServer(url, result.study.best_trial.user_attrs[RUN_ATTR])
    finally:
        stop_process_group(process)


def test_studies_page_shows_the_study_and_loads_its_best_trial(browser, study_server):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    console = ConsoleLog(page)
    try:
        open_app(page, f"{study_server.url}/studies")
        main = page.locator(MAIN)
        expect(page.locator(f"{MAIN} h1").first).to_have_text("Hyperparameter studies")
        expect(metric_value(page, "Trials")).to_have_text(str(TRIALS))
        expect(metric_value(page, "Complete")).to_have_text(str(TRIALS))
        expect(main.get_by_text(re.compile(r"^Best: trial \d+, validation accuracy"))).to_be_visible()
        assert assert_charts_drawn(page, minimum=1) >= 1  # best so far (and importances when Optuna has them)
        expect(main.locator('[data-testid="stDataFrame"]')).to_have_count(1)
        assert_no_exception_boxes(page)
        screenshot(page, "80-studies")

        # New visitors start on the best validation score, the study's best trial: load another, then the best.
        picker = main.locator(".st-key-study_trial_to_load")
        options = selectbox_options(page, picker)
        assert options[0].endswith("· best") and len(options) == TRIALS
        for option in (options[-1], options[0]):
            select_option(page, picker, option, exact=True)
            wait_for_app(page)
            main.get_by_role("button", name="Load as the active model").click()
            wait_for_app(page)
            number = option.split(" ")[1]
            expect(main.get_by_text(re.compile(rf"^Trial {number}'s run .* is the active model"))).to_be_visible()
        expect(sidebar(page).get_by_text(study_server.best_run).first).to_be_visible()
        assert_no_exception_boxes(page)
        screenshot(page, "81-studies-loaded")
        console.assert_clean()
    finally:
        context.close()
