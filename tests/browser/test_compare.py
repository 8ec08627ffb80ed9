"""The Compare page reached by a link, and the Runs page's edits, download and deletion, in Chromium."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from playwright.sync_api import expect

from core.config import TrainConfig
from core.data import load_sample
from core.experiment import run_experiment
from core.runs import RunStore
from dashboard.server_process import VIEWPORT
from tests.support.browser import (
    APP_TIMEOUT_MS,
    MAIN,
    ConsoleLog,
    active_model_alert,
    assert_charts_drawn,
    go_to_page,
    load_saved_run,
    open_app,
    open_selectbox,
    screenshot,
    select_option,
    sidebar,
    wait_for_app,
    wait_for_images,
)

WHO_IS_RIGHT = re.compile(r"^true \d\s+A [✓✗]\d · B [✓✗]\d$")


@pytest.fixture
def throwaway_run(streamlit_server, request):
    """A small run of its own for a test that edits or deletes it; gone after the test, so the shared
    store holds only what the other browser tests expect."""
    store = RunStore(streamlit_server.runs_dir)
    config = TrainConfig.for_arch("mlp", epochs=1, hidden_units=(16,), train_limit=600, name=request.node.name[5:25])
    run = run_experiment(config, load_sample(), store).run
    yield run
    if (store.root / run.run_id).exists():
        store.delete(run.run_id)


def choose_run_to_manage(page, run_id: str) -> None:
    picker = page.locator(MAIN).locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text("Run", exact=True))
    select_option(page, picker, run_id)
    wait_for_app(page)


def compare_link(app, *run_ids: str) -> str:
    return f"{app.server.url}/compare?compare={','.join(run_ids)}"


def image_captions(page) -> list[str]:
    captions = page.locator(f'{MAIN} [data-testid="stCaptionContainer"]').filter(has_text=re.compile(r"^true \d"))
    return [text.strip() for text in captions.all_inner_texts()]


def wait_for_captions(page, wanted, timeout_s: float = APP_TIMEOUT_MS / 1000) -> list[str]:
    """The gallery's captions once `wanted(captions)` holds for a non-empty list (or the last seen, at the timeout)."""
    deadline = time.monotonic() + timeout_s
    while True:
        wait_for_app(page)
        captions = image_captions(page)
        if (captions and wanted(captions)) or time.monotonic() > deadline:
            return captions
        page.wait_for_timeout(250)


def test_a_compare_link_shows_scores_test_curves_and_differences(app, quick_run):
    page, older = app.page, app.server.older_run
    open_app(page, compare_link(app, quick_run.run_id, older.run_id))
    main = page.locator(MAIN)
    expect(main.locator("h1").first).to_have_text("Compare models")
    expect(main.get_by_text(re.compile(r"is more accurate than|No significant difference")).first).to_be_visible()
    expect(main.locator('[data-testid="stDataFrame"]').first).to_be_visible()
    assert_charts_drawn(page, minimum=2)  # overlaid curves, per-digit differences
    wait_for_images(page)
    assert all(WHO_IS_RIGHT.match(caption) for caption in image_captions(page))
    screenshot(page, "70-compare")
    app.check()


def test_disagreements_filter_by_true_digit(app, quick_run):
    page = app.page
    open_app(page, compare_link(app, quick_run.run_id, app.server.older_run.run_id))
    digit = int(image_captions(page)[0][len("true ")])
    picker = page.locator(MAIN).locator('[data-testid="stSelectbox"]').filter(has_text="True digit")
    open_selectbox(page, picker)
    page.keyboard.type(str(digit))  # typed, then Enter: a click on an option low in the list can miss it
    expect(page.get_by_role("option")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(picker.locator("input")).to_have_value(str(digit))

    # The rerun the choice starts may not have begun when the input shows it: wait for its gallery.
    def only_the_digit(texts: list[str]) -> bool:
        return all(re.match(rf"true {digit}\s", text) for text in texts)

    captions = wait_for_captions(page, only_the_digit)
    assert captions and only_the_digit(captions), captions
    wait_for_images(page)
    app.check()


def test_a_run_on_other_data_is_refused_on_the_compare_page(app, quick_run, tmp_path):
    page = app.page
    open_app(page, compare_link(app, quick_run.run_id, "20000101-000000-not-here"))
    expect(page.locator(MAIN).get_by_text("which is not in the run store")).to_be_visible()
    expect(page.locator(MAIN).get_by_text("Choose two or more models to compare.")).to_be_visible()
    app.check()


def test_renaming_a_run_on_the_runs_page(app, throwaway_run):
    page, run = app.page, throwaway_run
    open_app(page, app.server.url)
    go_to_page(page, "Runs")
    main = page.locator(MAIN)
    choose_run_to_manage(page, run.run_id)
    main.get_by_label("Name", exact=True).fill("Renamed in the browser")
    main.get_by_label("Tags (comma-separated)").fill("browser, keep")
    main.get_by_role("button", name="Save").click()
    expect(main.get_by_text(f"Saved name, tags of {run.run_id}.")).to_be_visible(timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    annotations = RunStore(app.server.runs_dir).get(run.run_id).annotations
    assert (annotations.name, annotations.tags) == ("Renamed in the browser", ("browser", "keep"))
    screenshot(page, "71-runs")
    app.check()


def test_downloading_a_runs_model(app, throwaway_run):
    page, run = app.page, throwaway_run
    open_app(page, app.server.url)
    go_to_page(page, "Runs")
    main = page.locator(MAIN)
    choose_run_to_manage(page, run.run_id)
    with page.expect_download() as download_info:
        main.get_by_role("button", name="Download model (.keras)").click()
    download = download_info.value
    assert download.suggested_filename == f"{run.run_id}.keras"
    with zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read())) as archive:
        assert "config.json" in archive.namelist()
    app.check()


def test_a_run_deleted_in_one_session_keeps_working_in_another(app, browser, throwaway_run):
    run = throwaway_run
    other_context = browser.new_context(viewport=VIEWPORT)
    viewer = other_context.new_page()
    viewer_console = ConsoleLog(viewer)
    try:
        open_app(viewer, app.server.url)
        load_saved_run(viewer, run.run_id)
        go_to_page(viewer, "Per-class metrics")

        page = app.page
        open_app(page, app.server.url)
        go_to_page(page, "Runs")
        main = page.locator(MAIN)
        choose_run_to_manage(page, run.run_id)
        delete = main.get_by_role("button", name="Delete run")
        expect(delete).to_be_disabled()
        main.get_by_text(f"Yes, delete {run.run_id} for everyone").click()
        expect(delete).to_be_enabled()
        delete.click()
        expect(main.get_by_text(f"Deleted {run.run_id}.")).to_be_visible(timeout=APP_TIMEOUT_MS)
        assert not (app.server.runs_dir / run.run_id).exists()
        screenshot(page, "72-runs-deleted")

        for title in ("Weights", "Draw", "Per-class metrics"):
            go_to_page(viewer, title)
            expect(active_model_alert(viewer)).to_contain_text(run.run_id)
        expect(sidebar(viewer).get_by_text("Deleted from the run store")).to_be_visible()
        assert not viewer.locator('[data-testid="stException"]').count()
        screenshot(viewer, "73-deleted-run-still-loaded")
        viewer_console.assert_clean()
    finally:
        other_context.close()
    app.check()
