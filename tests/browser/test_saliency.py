"""Saliency overlays, the What-if sliders and the Robustness curves in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from core.config import TrainConfig
from core.data import load_sample
from core.experiment import run_experiment
from core.runs import RunInfo, RunStore
from tests.support.browser import (
    APP_TIMEOUT_MS,
    MAIN,
    assert_charts_drawn,
    draw_stroke,
    ellipse_zero,
    go_to_page,
    load_saved_run,
    open_app,
    screenshot,
    wait_for_app,
    wait_for_images,
)


@pytest.fixture(scope="module")
def small_cnn(streamlit_server) -> RunInfo:
    config = TrainConfig.for_arch("cnn", epochs=1, batch_size=64, train_limit=1500, seed=4, name="browser cnn")
    return run_experiment(config, load_sample(), RunStore(streamlit_server.runs_dir)).run


OVERLAY_COUNT_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] img')]
    .filter(img => img.complete && img.naturalWidth === 224).length"""


def count_overlays(page: Page) -> int:
    """How many 224×224 images the main block shows: the saliency overlays (every other digit is 28×28)."""
    return page.evaluate(OVERLAY_COUNT_JS)


def wait_for_one_overlay(page: Page) -> None:
    """Wait until exactly one overlay has loaded: a rerun after the one that wrote the caption (the canvas
    reporting again, say) swaps the image for a new file, which is briefly not loaded."""
    page.wait_for_function(f"() => ({OVERLAY_COUNT_JS})() === 1", timeout=APP_TIMEOUT_MS)


def test_inspect_shows_a_grad_cam_overlay_with_its_colour_scale(app, small_cnn):
    page = app.page
    open_app(page, app.server.url)
    load_saved_run(page, small_cnn.run_id)
    go_to_page(page, "Misclassifications")
    page.locator(MAIN).get_by_role("button", name="Inspect").first.click()
    expect(page.locator(MAIN).get_by_text("Which pixels made the model say so")).to_be_visible(timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    page.locator(f"{MAIN} .st-key-gallery_saliency_method").get_by_text("Grad-CAM", exact=True).click()
    expect(page.locator(MAIN).get_by_text(re.compile(r"^Grad-CAM, why \d"))).to_be_visible(timeout=APP_TIMEOUT_MS)
    wait_for_one_overlay(page)
    wait_for_images(page)
    expect(page.locator(f"{MAIN} .dl-scale")).to_contain_text("for")
    page.locator(f"{MAIN} .dl-scale").scroll_into_view_if_needed()
    screenshot(page, "40-saliency-inspect-grad-cam")
    app.check()


def test_draw_shows_the_saliency_of_the_drawing_when_asked(app, small_cnn):
    page = app.page
    open_app(page, app.server.url)
    load_saved_run(page, small_cnn.run_id)
    go_to_page(page, "Draw")
    draw_stroke(page, ellipse_zero())
    expect(page.locator(MAIN).get_by_text(re.compile("Prediction:"))).to_be_visible(timeout=APP_TIMEOUT_MS)
    assert count_overlays(page) == 0  # off by default
    page.locator(MAIN).get_by_text("Show which pixels made the model say so").click()
    expect(page.locator(MAIN).get_by_text(re.compile(r"^integrated gradients, why \d"))).to_be_visible(
        timeout=APP_TIMEOUT_MS
    )
    wait_for_one_overlay(page)
    wait_for_images(page)
    screenshot(page, "41-saliency-draw")
    app.check()


def test_what_if_slider_changes_the_digit_and_the_prediction(app, small_cnn):
    page = app.page
    open_app(page, app.server.url)
    load_saved_run(page, small_cnn.run_id)
    go_to_page(page, "What-if")
    wait_for_images(page)
    picture = page.locator(f"{MAIN} img").first
    before = picture.get_attribute("src")
    slider = page.locator(f'{MAIN} [data-testid="stSlider"]').filter(has_text="rotation (°)")
    thumb = slider.get_by_role("slider")
    thumb.focus()
    for _ in range(9):  # 9 steps of 5°
        page.keyboard.press("ArrowRight")
    expect(thumb).to_have_attribute("aria-valuetext", "45")
    expect(page.locator(f"{MAIN} img").first).not_to_have_attribute("src", before, timeout=APP_TIMEOUT_MS)
    expect(page.locator(MAIN).get_by_text(re.compile(r"^Transform, prediction and image took"))).to_be_visible()
    wait_for_images(page)
    assert_charts_drawn(page)
    screenshot(page, "42-what-if-rotated")
    app.check()


def test_robustness_measures_and_draws_curves(app, small_cnn, quick_run):
    page = app.page
    open_app(page, app.server.url)
    load_saved_run(page, small_cnn.run_id)
    go_to_page(page, "Robustness")
    page.locator(MAIN).get_by_role("button", name=re.compile("^Measure")).click()
    chart = page.locator(f"{MAIN} [data-testid='stPlotlyChart']").first
    expect(chart).to_be_visible(timeout=4 * APP_TIMEOUT_MS)
    assert_charts_drawn(page)
    expect(page.locator(f"{MAIN} [data-testid='stDataFrame']")).to_be_visible()
    screenshot(page, "43-robustness-curves")
    app.check()
