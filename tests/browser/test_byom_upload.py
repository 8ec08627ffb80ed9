"""Bring your own model in Chromium: upload a model trained elsewhere in the sidebar and read what it says.

The quickstart model (input (28, 28), logits out) and the keras-io convnet (input (28, 28, 1)) of
tests/support/uploaded_models.py go through the real file picker; the sidebar lists the adapter's notes and
the pages work. Screenshots: artifacts/screenshots/byom-*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    APP_TIMEOUT_MS,
    MAIN,
    active_model_alert,
    assert_charts_drawn,
    go_to_page,
    open_app,
    open_expander,
    screenshot,
    sidebar,
    wait_for_app,
)


def upload_model(page, path) -> None:
    """Choose the file in the sidebar's model uploader and press "Use uploaded model"."""
    expander = sidebar(page).locator('[data-testid="stExpander"]').filter(has_text="Load a saved run")
    open_expander(expander)
    expander.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    button = expander.get_by_role("button", name="Use uploaded model")
    expect(button).to_be_visible(timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    button.click()
    expect(active_model_alert(page)).to_contain_text(f"uploaded {path.name}", timeout=APP_TIMEOUT_MS)
    wait_for_app(page)


@pytest.mark.parametrize(
    "name, note",
    [
        ("quickstart_logits", "This model outputs logits; probabilities are its softmax."),
        ("keras_io_convnet", "It takes input of shape (28, 28, 1): the 28×28 images are reshaped in front of it."),
    ],
)
def test_an_uploaded_model_says_how_it_was_adapted(app, uploaded_models, name, note):
    page = app.page
    open_app(page, app.server.url)
    upload_model(page, uploaded_models[name].path)
    notes = sidebar(page).locator('[data-testid="stAlert"]').filter(has_text="It is fed pixels in 0–1")
    expect(notes).to_contain_text(note)
    expect(sidebar(page).get_by_text("Pixels this model was trained on")).to_be_visible()
    expect(sidebar(page).get_by_role("button", name="Keep as a run")).to_be_visible()
    screenshot(page, f"byom-{name}-sidebar")
    app.check()
    go_to_page(page, "Activations")
    assert_charts_drawn(page, page.locator(MAIN), minimum=2)
    screenshot(page, f"byom-{name}-activations")
    app.check()
