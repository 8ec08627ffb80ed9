"""Clicking a cell of the confusion matrix shows exactly that cell's test images."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from core.analysis.evaluation import most_confused_pairs
from tests.support.browser import (
    MAIN,
    assert_confusion_matrix_drawn,
    confusion_cells,
    go_to_page,
    load_saved_run,
    open_app,
    screenshot,
    wait_for_images,
)


def click_cell(page: Page, true: int, predicted: int) -> None:
    """Click a cell near its corner, off its count (Vega draws the 100 cells in row order)."""
    assert_confusion_matrix_drawn(page)
    confusion_cells(page).nth(true * 10 + predicted).click(position={"x": 4, "y": 4})


def click_count(page: Page, true: int, predicted: int) -> None:
    """Click the number written in a cell, as most people would."""
    counts = page.locator(f"{MAIN} .st-key-confusion svg g.mark-text.role-mark text")
    expect(counts).to_have_count(100)
    counts.nth(true * 10 + predicted).click()


def cell_summary(page: Page) -> Locator:
    return page.locator(MAIN).get_by_text(re.compile(r"^\d+ test images of a \d predicted as \d"))


def gallery_captions(page: Page) -> list[str]:
    captions = page.locator(f'{MAIN} [data-testid="stCaptionContainer"]').filter(has_text=re.compile(r"^[✓✗] true"))
    return [text.strip() for text in captions.all_inner_texts()]


def test_clicking_an_error_cell_shows_its_images(app, quick_run):
    page = app.page
    open_app(page, app.server.url)
    load_saved_run(page, quick_run.run_id)
    go_to_page(page, "Per-class metrics")
    pair = most_confused_pairs(quick_run.record.test_metrics.confusion, top=2)[-1]  # not the default cell
    click_cell(page, pair.true, pair.predicted)
    expected = f"{pair.count} test images of a {pair.true} predicted as {pair.predicted} (misclassified)."
    expect(cell_summary(page)).to_have_text(expected)
    wait_for_images(page)
    captions = gallery_captions(page)
    assert len(captions) == min(pair.count, 32)
    assert all(caption.startswith(f"✗ true {pair.true} → {pair.predicted}") for caption in captions)
    screenshot(page, "25-confusion-cell")
    app.check()


def test_clicking_the_diagonal_shows_the_least_confident_correct_images(app, quick_run):
    page = app.page
    open_app(page, app.server.url)
    load_saved_run(page, quick_run.run_id)
    go_to_page(page, "Per-class metrics")
    click_count(page, 4, 4)
    expect(cell_summary(page)).to_contain_text("of a 4 predicted as 4 (correct)")
    wait_for_images(page)
    confidences = [int(re.search(r"· (\d+)%", caption).group(1)) for caption in gallery_captions(page)]
    assert confidences and confidences == sorted(confidences)
    app.check()
