"""The Calibration page in AppTest: a run (its temperature recorded, or fitted here for an older run), an
ensemble and an uploaded model; the session's toggle reaching Misclassifications and Draw; "not sure" on Draw.

The app runs on the offline sample (1,000 test images); the store holds copies of two of the session's tiny MLP runs.
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from core.analysis.calibration import apply_temperature, fit_model_temperature, images_to_fit_on
from core.analysis.evaluation import evaluate
from core.analysis.inspection import predict_digit
from core.preprocessing import digit_from_upload
from core.runs import MODEL_FILE, RECORD_FILE, RunStore
from tests.support.apptest import (
    assert_no_exception,
    button,
    charts,
    go,
    load_run,
    plotly_array,
    png_bytes,
    press,
    sidebar_success,
    start_app,
    texts,
)

TOGGLE = "calibrated_probabilities_widget"
THRESHOLD = "confidence_threshold_widget"
NOT_SURE = "draw_answers_not_sure_widget"
CALIBRATION_CHARTS = {"reliability_before", "reliability_after", "accuracy_coverage"}


@pytest.fixture(scope="module")
def runs(tiny_runs, tmp_path_factory):
    """Two tiny MLP runs, and a copy of the first as saved before run.json recorded a temperature. Read-only."""
    root, ids = tiny_runs.store_with(tmp_path_factory.mktemp("calibration-runs"), one="alpha", two="alpha-seed-1")
    old = root / "20200101-000000-before-calibration"
    shutil.copytree(root / ids["one"], old)
    record = json.loads((old / RECORD_FILE).read_text())
    del record["calibration"]
    (old / RECORD_FILE).write_text(json.dumps({**record, "schema_version": 3, "run_id": old.name}))
    ids["old"] = old.name
    return root, ids


def metrics(at) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.main.metric}


def calibration_page(at) -> None:
    go(at, "calibration")
    assert set(charts(at)) >= CALIBRATION_CHARTS


def count_bars(figure: dict) -> np.ndarray:
    (bars,) = [trace for trace in figure["data"] if trace.get("name") == "images per bin"]
    return plotly_array(bars["y"])


def test_a_run_shows_the_temperature_it_recorded(monkeypatch, runs):
    root, ids = runs
    record = RunStore(root).get(ids["one"]).record
    at = start_app(monkeypatch, root)
    load_run(at, ids["one"])
    calibration_page(at)
    temperature = record.calibration.temperature
    assert metrics(at)["Temperature T"] == f"{temperature:.3f}"
    (info,) = texts(at.main.info)
    assert "the validation split this run held out in training (60 images), when it was trained" in info
    assert "never on the test set" in info and not at.main.warning
    figures = charts(at)
    for key in ("reliability_before", "reliability_after"):  # every test image in some bin
        assert count_bars(figures[key]).sum() == 1000
    scores = at.main.dataframe[0].value
    assert list(scores.columns) == ["before (T = 1)", f"after (T = {temperature:.2f})"]
    assert scores.loc["Accuracy"].nunique() == 1  # temperature scaling never changes a prediction
    assert scores.loc["Accuracy", "before (T = 1)"] == f"{record.test_metrics.accuracy:.2%}"


def test_an_older_run_is_fitted_once_on_the_split_it_held_out(monkeypatch, runs, sample_data):
    root, ids = runs
    old = RunStore(root).get(ids["old"])
    assert old.record.calibration is None
    expected = fit_model_temperature(RunStore(root).load_model(old.run_id), images_to_fit_on((old,), sample_data))
    at = start_app(monkeypatch, root)
    load_run(at, ids["old"])
    calibration_page(at)
    assert metrics(at)["Temperature T"] == f"{expected.temperature:.3f}"
    (info,) = texts(at.main.info)
    assert "the validation split this run held out in training (60 images), once for this model" in info


def test_an_ensemble_is_fitted_on_its_first_members_split_and_says_so(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    at.multiselect(key="ensemble_picker").set_value([ids["one"], ids["two"]]).run()
    press(at, "Load ensemble")
    assert "ensemble of 2 runs" in sidebar_success(at)
    calibration_page(at)
    assert "the validation split of the first member" in texts(at.main.info)[0]
    assert any("may have trained on some of these" in warning for warning in texts(at.main.warning))


def test_an_uploaded_model_says_it_may_have_trained_on_the_fit_images(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    content = (root / ids["two"] / MODEL_FILE).read_bytes()
    at.file_uploader(key="model_upload").set_value(("mine.keras", content, "application/octet-stream"))
    at.run()
    button(at, "Use uploaded model").click()
    at.run()
    assert_no_exception(at)
    assert "uploaded mine.keras" in sidebar_success(at)
    calibration_page(at)
    assert "a seeded, stratified 10% of the training set (400 images)" in texts(at.main.info)[0]
    assert any("trained elsewhere" in w and "may have trained on these images" in w for w in texts(at.main.warning))
    temperature = float(metrics(at)["Temperature T"])
    at.toggle(key=TOGGLE).set_value(True).run()
    assert_no_exception(at)
    go(at, "misclassifications")  # the upload's own temperature reaches the gallery's confidences
    assert "uploaded mine.keras" in sidebar_success(at)
    go(at, "draw")
    assert any(f"calibrated probabilities (T = {temperature:.2f})" in c for c in texts(at.main.caption))


def test_the_toggle_calibrates_the_probabilities_shown_on_misclassifications(monkeypatch, runs, sample_data):
    root, ids = runs
    temperature = RunStore(root).get(ids["one"]).record.calibration.temperature
    at = start_app(monkeypatch, root)
    load_run(at, ids["one"])
    go(at, "misclassifications")
    inspect = next(b for b in at.main.button if b.label == "Inspect" and b.key.startswith("inspect_"))
    index = int(inspect.key.removeprefix("inspect_"))
    inspect.click()
    at.run()
    raw = plotly_array(charts(at)["selected_probabilities"]["data"][0]["y"])
    heading = [m for m in texts(at.main.markdown) if m.startswith("**true")]

    calibration_page(at)
    assert at.toggle(key=TOGGLE).value is False  # off by default: every page as before
    at.toggle(key=TOGGLE).set_value(True).run()
    assert_no_exception(at)
    go(at, "misclassifications")
    shown = plotly_array(charts(at)["selected_probabilities"]["data"][0]["y"])
    np.testing.assert_allclose(shown, apply_temperature(raw, temperature), atol=1e-6)
    assert not np.allclose(shown, raw) and shown.argmax() == raw.argmax()
    new_heading = [m for m in texts(at.main.markdown) if m.startswith("**true")]
    assert new_heading[0].split("(")[0] == heading[0].split("(")[0]  # same true and predicted digits
    assert f"{shown.max():.1%}" in new_heading[0]
    assert index == at.session_state["selected_test_index"]

    go(at, "calibration")  # the toggle kept its value across pages, and can be turned off again
    assert at.toggle(key=TOGGLE).value is True
    at.toggle(key=TOGGLE).set_value(False).run()
    go(at, "misclassifications")
    np.testing.assert_allclose(plotly_array(charts(at)["selected_probabilities"]["data"][0]["y"]), raw)


def test_the_threshold_gives_accuracy_and_coverage(monkeypatch, runs, sample_data):
    root, ids = runs
    model = RunStore(root).load_model(ids["one"])
    evaluation = evaluate(model, sample_data.x_test, sample_data.y_test)
    at = start_app(monkeypatch, root)
    load_run(at, ids["one"])
    calibration_page(at)
    assert at.slider(key=THRESHOLD).value == 0.9
    at.slider(key=THRESHOLD).set_value(0.5).run()
    assert_no_exception(at)
    answered = evaluation.confidences >= 0.5
    right = evaluation.predictions == evaluation.labels
    shown = metrics(at)
    assert shown["Answered (coverage)"] == f"{answered.mean():.1%}"
    assert shown["Accuracy on the answered"] == f"{right[answered].mean():.2%}"
    assert shown['"Not sure"'] == f"{(~answered).sum():,} / 1,000"
    marker = charts(at)["accuracy_coverage"]["data"][-1]
    assert marker["name"] == "threshold 0.50"
    assert plotly_array(marker["x"])[0] == pytest.approx(answered.mean())


def test_draw_says_not_sure_under_the_threshold_only_when_asked(monkeypatch, runs, sample_data):
    root, ids = runs
    model = RunStore(root).load_model(ids["one"])
    digit_png = png_bytes(255 - np.kron(sample_data.x_test[0], np.ones((6, 6), dtype=np.uint8)))
    confidence = float(predict_digit(model, digit_from_upload(digit_png)).max())
    at = start_app(monkeypatch, root)
    load_run(at, ids["one"])

    def drawn_panel() -> str:
        go(at, "draw")
        at.main.file_uploader[0].set_value(("digit.png", digit_png, "image/png"))
        at.run()
        assert_no_exception(at)
        (panel,) = texts(at.main.html)
        return panel

    calibration_page(at)
    above = np.ceil(confidence * 100 + 1) / 100  # a threshold the picture's confidence does not reach
    at.slider(key=THRESHOLD).set_value(float(min(above, 1.0))).run()
    panel = drawn_panel()
    assert re.search(r"<h3>Prediction: <strong>\d</strong></h3>", panel)  # not asked for: Draw answers
    assert not [c for c in texts(at.main.caption) if "Calibration page" in c]

    go(at, "calibration")
    at.checkbox(key=NOT_SURE).check().run()
    assert_no_exception(at)
    panel = drawn_panel()
    assert "<h3>Not sure</h3>" in panel and f"under your {min(above, 1.0):.0%} threshold" in panel
    assert re.search(r"best guess \d, \d+\.\d% confident", panel)
    assert any('"not sure" under' in c and "Calibration page" in c for c in texts(at.main.caption))

    go(at, "calibration")
    at.slider(key=THRESHOLD).set_value(0.0).run()
    assert re.search(r"<h3>Prediction: <strong>\d</strong></h3>", drawn_panel())


def test_draw_shows_calibrated_probabilities_when_the_toggle_is_on(monkeypatch, runs, sample_data):
    root, ids = runs
    temperature = RunStore(root).get(ids["one"]).record.calibration.temperature
    model = RunStore(root).load_model(ids["one"])
    digit_png = png_bytes(255 - np.kron(sample_data.x_test[1], np.ones((6, 6), dtype=np.uint8)))
    calibrated = apply_temperature(predict_digit(model, digit_from_upload(digit_png)), temperature)
    at = start_app(monkeypatch, root)
    load_run(at, ids["one"])
    calibration_page(at)
    at.toggle(key=TOGGLE).set_value(True).run()
    go(at, "draw")
    at.main.file_uploader[0].set_value(("digit.png", digit_png, "image/png"))
    at.run()
    assert_no_exception(at)
    (panel,) = texts(at.main.html)
    assert f"{calibrated.max():.1%} confident (calibrated, T = {temperature:.2f})" in panel
    shown = [float(p) / 100 for p in re.findall(r'title="digit \d: ([\d.]+)%"', panel)]
    np.testing.assert_allclose(shown, calibrated, atol=1e-4)
    assert any("calibrated probabilities" in c for c in texts(at.main.caption))
