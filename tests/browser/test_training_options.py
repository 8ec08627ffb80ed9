"""Options of the sidebar's training form reach the saved run, clicked in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.runs import RunStore
from tests.browser.helpers import APP_TIMEOUT_MS, MAIN, screenshot, wait_for_app
from tests.browser.test_multi_session import fill_training_form, runs_named, training_form, wait_for_finish

pytestmark = pytest.mark.browser


def test_a_run_trained_with_elastic_distortions_ticked_is_saved_with_them(app):
    page = app.page
    page.goto(app.server.url)
    expect(page.locator(f"{MAIN} h1").first).to_be_visible(timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    start = fill_training_form(page, "opt-elastic", epochs=1)
    form = training_form(page)
    elastic = form.get_by_role("checkbox", name="Elastic distortions")
    expect(elastic).not_to_be_checked()
    # Streamlit hides the input under its own box: click the label, as a person does.
    form.locator('[data-testid="stCheckbox"]').filter(has_text="Elastic distortions").locator("label").click()
    expect(elastic).to_be_checked()
    screenshot(page, "training-form-elastic")
    start.click()
    wait_for_finish(page)
    (run,) = runs_named(RunStore(app.server.runs_dir), "opt-elastic")
    assert run.config.elastic is True and run.config.epochs == 1
    app.check()


def test_a_run_trained_with_a_wider_augmentation_range_is_saved_with_it(app):
    page = app.page
    page.goto(app.server.url)
    expect(page.locator(f"{MAIN} h1").first).to_be_visible(timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    start = fill_training_form(page, "opt-range", epochs=1)
    form = training_form(page)
    range_slider = form.locator('[data-testid="stSlider"]').filter(has_text="Augmentation range")
    expect(range_slider).to_contain_text("±10°, ±10%")
    thumb = range_slider.get_by_role("slider")
    thumb.focus()
    thumb.press("ArrowRight")  # one step per press, as a keyboard user moves it
    thumb.press("ArrowRight")
    expect(range_slider).to_contain_text("±20°, ±20%")
    screenshot(page, "training-form-augment-range")
    start.click()
    wait_for_finish(page)
    (run,) = runs_named(RunStore(app.server.runs_dir), "opt-range")
    assert (run.config.augment_rotation, run.config.augment_shift) == (20.0, 0.2)
    app.check()


def test_a_run_trained_with_weight_averaging_is_saved_with_its_decay(app):
    page = app.page
    page.goto(app.server.url)
    expect(page.locator(f"{MAIN} h1").first).to_be_visible(timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    start = fill_training_form(page, "opt-averaging", epochs=1)
    averaging = training_form(page).locator('[data-testid="stSlider"]').filter(has_text="Weight averaging")
    expect(averaging).to_contain_text("off")
    thumb = averaging.get_by_role("slider")
    thumb.focus()
    thumb.press("ArrowRight")
    thumb.press("ArrowRight")
    expect(averaging).to_contain_text("decay 0.999")
    screenshot(page, "training-form-weight-averaging")
    start.click()
    wait_for_finish(page)
    (run,) = runs_named(RunStore(app.server.runs_dir), "opt-averaging")
    assert run.config.weight_averaging == 0.999 and run.config.epochs == 1
    app.check()
