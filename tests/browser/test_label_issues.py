"""The Label issues page in Chromium: the suspects table, its CSV, the training-set job and its cancel.

The server runs on the offline sample (1,000 test images), where the human-disputed list does not apply.
"""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import Page, expect

from tests.support.browser import APP_TIMEOUT_MS, MAIN, go_to_page, open_app, screenshot, wait_for_app, wait_for_images

JOB_TIMEOUT_MS = 300_000  # K trainings of the fast recipe: tens of seconds here, minutes under load
TITLE = "Label issues"


def open_label_issues(page: Page, url: str) -> None:
    """Open the app (a visitor lands with the store's best run) and go to Label issues."""
    open_app(page, url)
    go_to_page(page, TITLE)
    expect(page.locator(MAIN).locator('[data-testid="stDataFrame"]').first).to_be_visible(timeout=APP_TIMEOUT_MS)


def form_slider(page: Page, label: str):
    return page.locator(MAIN).locator('[data-testid="stSlider"]').filter(has_text=label).get_by_role("slider")


def start_budget(page: Page, images_steps_left: int = 0, epochs: int | None = None) -> None:
    """Change the budget form (arrow keys on the images slider, typing the epochs) and press Start."""
    slider = form_slider(page, "Training images")
    for _ in range(images_steps_left):
        slider.focus()
        page.keyboard.press("ArrowLeft")
    if epochs is not None:
        field = page.locator(MAIN).locator('[data-testid="stNumberInput"]').filter(has_text="Epochs per fold")
        field.locator("input").fill(str(epochs))
        field.locator("input").press("Tab")
    page.locator(MAIN).get_by_role("button", name="Start").click()


def test_the_page_shows_the_suspects_with_thumbnails(app):
    page = app.page
    open_label_issues(page, app.server.url)
    main = page.locator(MAIN)
    expect(main.get_by_text("Flagged by confident learning")).to_be_visible()
    expect(main.get_by_text("list does not apply here")).to_be_visible()
    expect(main.get_by_text(re.compile(r"^Rank 1 · given \d · predicted \d"))).to_be_visible()
    expect(main.get_by_text("test image #")).to_be_visible()
    wait_for_images(page)
    screenshot(page, "label-issues-test-set")
    app.check()


def test_the_ranking_downloads_as_csv(app):
    page = app.page
    open_label_issues(page, app.server.url)
    with page.expect_download() as download_info:
        page.locator(MAIN).get_by_role("button", name="Download the ranking (CSV)").first.click()
    download = download_info.value
    assert download.suggested_filename == "label-issues-test.csv"
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    assert len(rows) == 1000  # every test image of the sample, worst first
    assert [row["rank"] for row in rows[:3]] == ["1", "2", "3"]
    scores = [float(row["quality score"]) for row in rows]
    assert scores == sorted(scores)
    assert {"index", "given label", "predicted", "top 3", "label disputed"} <= set(rows[0])
    app.check()


def test_the_training_set_is_ranked_with_progress(app):
    page = app.page
    open_label_issues(page, app.server.url)
    start_budget(page, images_steps_left=2)  # 4,000 → 1,000 images: 4 folds of the fast recipe, 2 epochs
    main = page.locator(MAIN)
    expect(main.locator('[data-testid="stProgress"]')).to_contain_text(re.compile(r"Fold \d of 4"))
    screenshot(page, "label-issues-training-progress")
    done = main.get_by_text(re.compile(r"^1,000 images · 4 folds · 2 epochs: \d+ flagged"))
    expect(done).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(main.locator('[data-testid="stProgress"]')).to_have_count(0)
    expect(main.locator('[data-testid="stDataFrame"]')).to_have_count(2)
    expect(main.get_by_text("training image #")).to_be_visible()
    wait_for_app(page)
    wait_for_images(page)
    screenshot(page, "label-issues-training-set")
    app.check()


def test_the_training_set_job_can_be_cancelled(app):
    page = app.page
    open_label_issues(page, app.server.url)
    start_budget(page, epochs=10)  # all 4,000 images, 10 epochs: long enough to cancel
    main = page.locator(MAIN)
    expect(main.locator('[data-testid="stProgress"]')).to_contain_text("4,000 images · 4 folds · 10 epochs")
    main.get_by_role("button", name="Cancel").click()
    expect(main.get_by_text("Cancelled: no training-set ranking for this budget.")).to_be_visible(
        timeout=JOB_TIMEOUT_MS
    )
    expect(main.locator('[data-testid="stProgress"]')).to_have_count(0)
    expect(main.locator('[data-testid="stDataFrame"]')).to_have_count(1)
    screenshot(page, "label-issues-cancelled")
    app.check()
