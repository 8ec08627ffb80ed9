"""The dashboard end to end in Chromium: train, visit every page, draw, filter, load a run.

Every test opens its own page (its own Streamlit session) on one shared server; see conftest.py.
Throughout, no Streamlit exception box may show and the browser console must stay free of errors.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from playwright.sync_api import expect

from core.analysis.handwriting import BY_NAME, as_upload, pixel_art
from core.analysis.inspection import predict_digit
from core.data import load_sample
from core.preprocessing import digit_from_upload
from core.run_selection import default_run
from core.runs import RunStore
from dashboard.page_registry import ANALYSIS_PAGES
from tests.support.browser import (
    APP_TIMEOUT_MS,
    MAIN,
    active_model_alert,
    assert_charts_drawn,
    assert_confusion_matrix_drawn,
    assert_no_exception_boxes,
    canvas_ink_pixels,
    draw_stroke,
    ellipse_zero,
    go_to_page,
    load_saved_run,
    metric_value,
    open_app,
    open_expander,
    screenshot,
    select_option,
    selectbox_options,
    sidebar,
    vertical_one,
    wait_for_app,
)

TRAINING_TIMEOUT_MS = 300_000  # 10-40 s here; minutes when other jobs load the 2 cores
DRAW_HINT = "Draw a digit on the black canvas to see what the model predicts."


# ---- 1. train from Home --------------------------------------------------------------------------


def test_train_quick_model_from_home(app):
    page = app.page
    open_app(page, app.server.url)
    # A visitor lands with the store's best run by validation accuracy (other test files may have
    # added runs to this server's store before), and the URL names it.
    store = RunStore(app.server.runs_dir)
    landing = default_run(store.list_runs()[0], load_sample(), store.pinned_default()).run_id
    expect(active_model_alert(page)).to_contain_text(f"Active model: {landing}")
    expect(page).to_have_url(re.compile(rf"\?run={landing}$"))
    app.check()

    page.get_by_role("button", name="Train a quick model").click()
    progress = sidebar(page).locator('[data-testid="stProgress"]')
    expect(progress).to_contain_text(re.compile(r"Epoch \d/3 · \d+ s"), timeout=APP_TIMEOUT_MS)
    screenshot(page, "01-home-training")

    finished = sidebar(page).get_by_text(re.compile(r"^Finished: test accuracy"))
    expect(finished).to_be_visible(timeout=TRAINING_TIMEOUT_MS)
    accuracy = re.search(r"test accuracy (\d+\.\d\d%)", finished.inner_text()).group(1)
    expect(progress).to_have_count(0)

    # The new run becomes the session's active model, in the sidebar and on Home.
    alert = active_model_alert(page)
    expect(alert).to_contain_text(re.compile(rf"Active model: \d{{8}}-\d{{6}}-quick-mlp · mlp · {accuracy}"))
    run_id = re.search(r"\d{8}-\d{6}-quick-mlp", alert.inner_text()).group(0)
    expect(page.locator(MAIN).get_by_text(f"Active model: {run_id}")).to_contain_text(f"· {accuracy}")
    wait_for_app(page)

    # ...and the first (newest) of the saved runs, above the older run. "Load a saved run" is open
    # while there is no model and folds away once one is active: wait for that, then reopen it.
    expander = sidebar(page).locator('[data-testid="stExpander"]').filter(has_text="Load a saved run")
    expect(expander.locator("details")).not_to_have_attribute("open", "")
    open_expander(expander)
    options = selectbox_options(page, expander.locator('[data-testid="stSelectbox"]'))
    assert options[0] == f"{run_id} · mlp · {accuracy}", options
    assert any(option.startswith(app.server.older_run.run_id) for option in options[1:]), options
    screenshot(page, "02-home-trained")
    app.check()


# ---- 2. every page -------------------------------------------------------------------------------


def test_every_page_shows_its_content(app, quick_run):
    page = app.page
    open_app(page, app.server.url)
    load_saved_run(page, quick_run.run_id)
    main = page.locator(MAIN)

    go_to_page(page, "Home")
    expect(main.get_by_text(f"Active model: {quick_run.run_id}")).to_be_visible()
    expect(main.locator('[data-testid="stPageLink"]')).to_have_count(len(ANALYSIS_PAGES))
    app.check()
    screenshot(page, "10-home")

    go_to_page(page, "Training curves")
    assert_charts_drawn(page)
    expect(metric_value(page, "Epochs run")).to_have_text("3 / 3")
    # The configuration and environment tables (the per-epoch one sits in a closed expander).
    expect(main.locator('[data-testid="stDataFrame"]').nth(1)).to_be_visible()
    app.check()
    screenshot(page, "11-training-curves")

    go_to_page(page, "Per-class metrics")
    assert assert_charts_drawn(page) == 1  # precision/recall/F1 bars (Plotly)
    assert_confusion_matrix_drawn(page)  # (Altair, so that a cell can be clicked)
    expect(main.locator('[data-testid="stDataFrame"]').first).to_be_visible()  # per-digit metrics
    expect(main.locator('[data-testid="stDataFrame"]')).to_have_count(2)  # + most confused pairs
    expect(metric_value(page, "Errors")).to_have_text(re.compile(r"^\d+ / 1000$"))
    app.check()
    screenshot(page, "12-per-class-metrics")

    go_to_page(page, "Misclassifications")
    summary = main.get_by_text(re.compile(r"misclassified test images match the filters"))
    errors = int(re.match(r"\d+", summary.inner_text()).group(0))
    images = main.locator('[data-testid="stImage"] img')
    expect(images).to_have_count(min(errors, 32) + 16)  # a page of mistakes, then the random sample
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stImage"] img')]
            .every(img => img.complete)"""
    )
    assert set(images.evaluate_all("images => images.map(img => img.naturalWidth)")) == {28}
    app.check()
    screenshot(page, "13-misclassifications")

    go_to_page(page, "Weights")
    expect(main.get_by_text(re.compile(r"^Each tile is one of the"))).to_contain_text("128 units")
    mosaic = main.locator(".st-key-weight_mosaic")
    expect(mosaic.locator(".js-plotly-plot")).to_be_visible(timeout=APP_TIMEOUT_MS)
    assert_charts_drawn(page, minimum=3)  # mosaic, one unit, the unit's favourite digits
    app.check()
    screenshot(page, "14-weights")

    go_to_page(page, "Activations")
    expect(main.get_by_text(re.compile(r"^Output: predicted \d"))).to_be_visible()
    # Output probabilities, then one chart per hidden layer that computes something.
    assert assert_charts_drawn(page, minimum=2) >= 2
    expect(main.locator(".st-key-output_probabilities .js-plotly-plot")).to_be_visible()
    app.check()
    screenshot(page, "15-activations")

    go_to_page(page, "Draw")
    expect(page.locator("canvas.upper-canvas")).to_be_visible()
    expect(main.get_by_text(DRAW_HINT)).to_be_visible()
    app.check()
    screenshot(page, "16-draw")


# ---- 3. draw -------------------------------------------------------------------------------------


def expect_prediction(page, digit: int) -> None:
    prediction = page.locator(MAIN).get_by_role("heading", name=re.compile(r"^Prediction:"))
    expect(prediction).to_have_text(f"Prediction: {digit}", timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    panel = page.locator(".st-key-prediction_drawing")
    expect(panel.locator(".dl-bar")).to_have_count(10)
    expect(panel.locator("img")).to_have_js_property("naturalWidth", 28)  # the 28×28 input the model saw


def test_draw_digits_and_clear(app, quick_run):
    page = app.page
    open_app(page, app.server.url)
    load_saved_run(page, quick_run.run_id)
    go_to_page(page, "Draw")
    main = page.locator(MAIN)
    expect(main.get_by_text(DRAW_HINT)).to_be_visible()

    draw_stroke(page, vertical_one())
    assert canvas_ink_pixels(page) > 1_000, "the stroke did not land on the canvas"
    expect_prediction(page, 1)
    expect(main.get_by_text(DRAW_HINT)).to_have_count(0)
    app.check()
    screenshot(page, "20-draw-one")

    main.get_by_role("button", name="Clear").click()
    expect(main.get_by_text(DRAW_HINT)).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(main.get_by_role("heading", name=re.compile(r"^Prediction:"))).to_have_count(0)
    expect(main.locator(".st-key-prediction_drawing")).to_have_count(0)
    wait_for_app(page)
    expect(page.locator("canvas.upper-canvas")).to_be_visible()
    assert canvas_ink_pixels(page) == 0, "the canvas still shows ink after Clear"
    app.check()
    screenshot(page, "21-draw-cleared")

    draw_stroke(page, ellipse_zero())
    expect_prediction(page, 0)
    app.check()
    screenshot(page, "22-draw-zero")


def upload_the_model_reads(tmp_path, model, render) -> tuple[Path, int]:
    """A PNG of a sample test digit as `render` draws it, and the digit the core reads in it.

    The first digit that the model, through the app's own upload preprocessing, reads as its label.
    """
    sample = load_sample()
    pictures = render(sample.x_test[:50], np.random.default_rng(0))
    for picture, label in zip(pictures, sample.y_test[:50], strict=True):
        data = as_upload(picture)
        if int(np.argmax(predict_digit(model, digit_from_upload(data)))) == label:
            path = tmp_path / f"upload-{label}.png"
            path.write_bytes(data)
            return path, int(label)
    raise AssertionError("the quick model read none of 50 uploads as their labels")


def upload_on_the_draw_page(app, run_id: str, path: Path) -> None:
    page = app.page
    open_app(page, app.server.url)
    load_saved_run(page, run_id)
    go_to_page(page, "Draw")
    page.locator(MAIN).locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))


def expect_upload_prediction(page, digit: int) -> None:
    prediction = page.locator(MAIN).get_by_role("heading", name=re.compile(r"^Prediction:"))
    expect(prediction).to_have_text(f"Prediction: {digit}", timeout=APP_TIMEOUT_MS)
    panel = page.locator(".st-key-prediction_upload")
    expect(panel.locator(".dl-bar")).to_have_count(10)
    expect(panel.locator("img")).to_have_js_property("naturalWidth", 28)


def test_an_uploaded_pixel_art_digit_is_read_as_the_core_reads_it(app, quick_run, tmp_path):
    model = RunStore(app.server.runs_dir).load_model(quick_run.run_id)
    path, digit = upload_the_model_reads(tmp_path, model, pixel_art(12, "nearest"))
    upload_on_the_draw_page(app, quick_run.run_id, path)
    expect_upload_prediction(app.page, digit)
    app.check()
    screenshot(app.page, "23-draw-upload-pixel-art")


def test_an_uploaded_photo_in_uneven_light_is_read_as_the_core_reads_it(app, quick_run, tmp_path):
    model = RunStore(app.server.runs_dir).load_model(quick_run.run_id)
    path, digit = upload_the_model_reads(tmp_path, model, BY_NAME["shadow"].render)
    upload_on_the_draw_page(app, quick_run.run_id, path)
    expect_upload_prediction(app.page, digit)
    app.check()
    screenshot(app.page, "24-draw-upload-shadowed-photo")


# ---- 4. misclassifications -----------------------------------------------------------------------


def gallery_captions(page) -> list[str]:
    """The captions of the filtered gallery: those before the "Random sample" heading.

    Document order, not screen position: the images are still loading and moving things down.
    """
    return page.locator(MAIN).evaluate(
        """main => {
            const sample = [...main.querySelectorAll("h3")]
                .find(heading => heading.textContent.startsWith("Random sample"));
            return [...main.querySelectorAll('[data-testid="stCaptionContainer"]')]
                .filter(caption => /true \\d/.test(caption.textContent))
                .filter(caption => caption.compareDocumentPosition(sample) & Node.DOCUMENT_POSITION_FOLLOWING)
                .map(caption => caption.textContent.trim());
        }"""
    )


def test_misclassification_filter_changes_gallery(app, quick_run):
    page = app.page
    open_app(page, app.server.url)
    load_saved_run(page, quick_run.run_id)
    go_to_page(page, "Misclassifications")
    main = page.locator(MAIN)
    summary = main.get_by_text(re.compile(r"^\d+ of the \d+ misclassified test images match the filters"))
    expect(summary).to_be_visible()
    all_text = summary.inner_text()
    total = int(re.search(r"of the (\d+)", all_text).group(1))
    assert all_text.startswith(f"{total} of the {total} ")
    everything = gallery_captions(page)
    assert len(everything) == min(total, 32)
    assert len({re.search(r"true (\d)", caption).group(1) for caption in everything}) > 1

    true_digit = 8
    select_option(
        page,
        main.locator('[data-testid="stSelectbox"]').filter(has_text="True digit"),
        str(true_digit),
        exact=True,
    )
    expect(summary).not_to_have_text(all_text, timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    matching = int(re.match(r"\d+", summary.inner_text()).group(0))
    assert 0 < matching < total
    assert summary.inner_text().startswith(f"{matching} of the {total} ")
    captions = gallery_captions(page)
    assert len(captions) == min(matching, 32)
    for caption in captions:
        assert re.match(rf"✗ true {true_digit} → (\d)", caption), caption
        assert not caption.startswith(f"✗ true {true_digit} → {true_digit}")
    app.check()
    screenshot(page, "30-misclassifications-true-8")


def test_gallery_images_are_inline_so_leaving_early_breaks_none(app, quick_run):
    """Streamlit drops an st.image file when its script run ends: a fetched one would answer 404."""
    page = app.page
    open_app(page, app.server.url)
    load_saved_run(page, quick_run.run_id)
    go_to_page(page, "Misclassifications")
    images = page.locator(f"{MAIN} img")
    expect(images.nth(15)).to_be_attached()  # the random sample alone has 16
    sources = images.evaluate_all("images => images.map(image => image.src)")
    assert all(source.startswith("data:image/png;base64,") for source in sources)
    go_to_page(page, "Weights")  # at once, without waiting for anything to load
    app.check()


# ---- 5. load an older run ------------------------------------------------------------------------


def test_load_older_run_pages_follow(app, quick_run):
    page = app.page
    older = app.server.older_run
    open_app(page, app.server.url)
    load_saved_run(page, quick_run.run_id)
    go_to_page(page, "Training curves")
    expect(metric_value(page, "Epochs run")).to_have_text("3 / 3")
    expect(metric_value(page, "Test accuracy")).to_have_text(f"{quick_run.test_accuracy:.2%}")

    load_saved_run(page, older.run_id)
    expect(active_model_alert(page)).to_contain_text(f"Active model: {older.label}")
    # Still on Training curves, now showing the older run's two epochs and its accuracy.
    expect(page.locator(f"{MAIN} h1").first).to_have_text("Training curves")
    older_accuracy = f"{older.test_accuracy:.2%}"
    expect(metric_value(page, "Test accuracy")).to_have_text(older_accuracy)
    expect(metric_value(page, "Epochs run")).to_have_text("2 / 2")
    assert_charts_drawn(page)
    app.check()
    screenshot(page, "40-older-run-training-curves")

    go_to_page(page, "Weights")
    expect(page.locator(MAIN).get_by_text(re.compile(r"^Each tile is one of the"))).to_contain_text("32 units")
    assert_no_exception_boxes(page)
    app.check()


# ---- 6. links ------------------------------------------------------------------------------------


def test_a_link_opens_its_page_and_model_and_a_reload_keeps_them(app, quick_run):
    page = app.page
    older = app.server.older_run.run_id
    open_app(page, f"{app.server.url}/weights?run={older}")
    expect(page.locator(f"{MAIN} h1").first).to_have_text("Weights")
    expect(active_model_alert(page)).to_contain_text(f"Active model: {older}")
    expect(page.locator(MAIN).get_by_text(re.compile(r"^Each tile is one of the"))).to_contain_text("32 units")

    page.reload()
    wait_for_app(page)
    expect(page.locator(f"{MAIN} h1").first).to_have_text("Weights")
    expect(active_model_alert(page)).to_contain_text(f"Active model: {older}")

    go_to_page(page, "Draw")  # moving between pages keeps the model in the URL
    expect(page).to_have_url(re.compile(rf"/draw\?run={older}$"))
    screenshot(page, "17-linked-draw")
    app.check()
