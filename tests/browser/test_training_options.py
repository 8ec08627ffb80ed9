"""Options of the sidebar's training form reach the saved run, clicked in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from core.runs import RunInfo, RunStore
from tests.support.browser import (
    APP_TIMEOUT_MS,
    MAIN,
    fill_training_form,
    runs_named,
    screenshot,
    training_form,
    wait_for_app,
    wait_for_finish,
)


def one_epoch_form(app, name: str) -> Locator:
    """Open the app and fill the training form for a one-epoch run called `name`; returns its start button."""
    page = app.page
    page.goto(app.server.url)
    expect(page.locator(f"{MAIN} h1").first).to_be_visible(timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    return fill_training_form(page, name, epochs=1)


def form_slider(page: Page, label: str) -> Locator:
    return training_form(page).locator('[data-testid="stSlider"]').filter(has_text=label)


def step_right(slider: Locator, steps: int) -> None:
    """Move a slider by the keyboard, one option per press, as a keyboard user does."""
    thumb = slider.get_by_role("slider")
    thumb.focus()
    for _ in range(steps):
        thumb.press("ArrowRight")


def train_and_find(app, start: Locator, name: str) -> RunInfo:
    start.click()
    wait_for_finish(app.page)
    (run,) = runs_named(RunStore(app.server.runs_dir), name)
    return run


def test_a_run_trained_with_elastic_distortions_ticked_is_saved_with_them(app):
    start = one_epoch_form(app, "opt-elastic")
    form = training_form(app.page)
    elastic = form.get_by_role("checkbox", name="Elastic distortions")
    expect(elastic).not_to_be_checked()
    # Streamlit hides the input under its own box: click the label, as a person does.
    form.locator('[data-testid="stCheckbox"]').filter(has_text="Elastic distortions").locator("label").click()
    expect(elastic).to_be_checked()
    screenshot(app.page, "training-form-elastic")
    run = train_and_find(app, start, "opt-elastic")
    assert run.config.elastic is True and run.config.epochs == 1
    app.check()


@pytest.mark.parametrize(
    ("label", "shown", "chosen", "saved"),
    [
        ("Augmentation range", "±10°, ±10%", "±20°, ±20%", {"augment_rotation": 20.0, "augment_shift": 0.2}),
        ("Weight averaging", "off", "decay 0.999", {"weight_averaging": 0.999}),
    ],
)
def test_a_setting_moved_two_steps_on_its_slider_is_saved_with_the_run(app, label, shown, chosen, saved):
    name = "opt-" + label.split()[0].lower()
    start = one_epoch_form(app, name)
    slider = form_slider(app.page, label)
    expect(slider).to_contain_text(shown)
    step_right(slider, 2)
    expect(slider).to_contain_text(chosen)
    screenshot(app.page, f"training-form-{name}")
    run = train_and_find(app, start, name)
    assert {field: getattr(run.config, field) for field in saved} == saved and run.config.epochs == 1
    if "weight_averaging" in saved:  # the average of its recent steps, not of its near-random first one
        assert run.record.validation_accuracy > 0.7
    app.check()
