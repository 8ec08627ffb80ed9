"""The Calibration page in Chromium: its charts, the session's "Calibrated probabilities" toggle, and Draw
answering "not sure" under the chosen threshold. Screenshots: artifacts/screenshots/5*-calibration*.png."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.browser import (
    MAIN,
    assert_charts_drawn,
    draw_stroke,
    go_to_page,
    metric_value,
    open_app,
    screenshot,
    vertical_one,
    wait_for_app,
)


def test_calibration_page_toggle_and_not_sure_on_draw(app, quick_run):
    page = app.page
    main = page.locator(MAIN)
    open_app(page, f"{app.server.url}/calibration?run={quick_run.run_id}")
    expect(page.locator(f"{MAIN} h1").first).to_have_text("Calibration")
    temperature = quick_run.record.calibration.temperature
    expect(metric_value(page, "Temperature T")).to_have_text(f"{temperature:.3f}")
    expect(main.get_by_text("the validation split this run held out in training")).to_be_visible()
    assert assert_charts_drawn(page, minimum=3) == 3  # reliability before and after, accuracy against coverage
    expect(main.get_by_text(re.compile(r"^Confidences: the model's own probabilities"))).to_be_visible()
    app.check()
    screenshot(page, "50-calibration")

    main.get_by_text("Calibrated probabilities", exact=True).click()
    expect(main.get_by_text(re.compile(r"^Confidences: temperature-scaled \(T = "))).to_be_visible()
    wait_for_app(page)
    main.get_by_role("slider").focus()
    page.keyboard.press("End")  # threshold 1.00: every drawing is below it
    expect(main.get_by_role("slider")).to_have_attribute("aria-valuetext", "1.00")
    wait_for_app(page)
    main.get_by_text('On the Draw page, answer "not sure" below this threshold').click()
    wait_for_app(page)
    app.check()
    screenshot(page, "51-calibration-calibrated")

    go_to_page(page, "Draw")
    note = f'Showing calibrated probabilities (T = {temperature:.2f}) and "not sure" under 100% confidence'
    expect(main.get_by_text(re.compile("^" + re.escape(note)))).to_be_visible()
    draw_stroke(page, vertical_one())
    panel = page.locator(".st-key-prediction_drawing")
    expect(panel.get_by_role("heading", name="Not sure")).to_be_visible(timeout=60_000)
    expect(panel).to_contain_text(f"(calibrated, T = {temperature:.2f}): under your 100% threshold")
    expect(panel.locator(".dl-bar")).to_have_count(10)
    wait_for_app(page)
    app.check()
    screenshot(page, "52-calibration-draw-not-sure")
