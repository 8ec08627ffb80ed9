"""Bring your own model in the dashboard: each model of tests/support/uploaded_models.py uploaded in the sidebar.

It is adapted on upload (the sidebar says how), works on every page, takes a pixel-scale override,
and can be kept as a run that reloads the same way. The app runs on the offline sample (1,000 test images).
"""

from __future__ import annotations

import numpy as np
import pytest

from core.runs import RunStore
from core.uploads import UPLOADED_ARCH
from dashboard.page_registry import ANALYSIS_PAGES
from tests.support.apptest import (
    assert_no_exception,
    charts,
    go,
    load_run,
    plotly_array,
    press,
    sidebar_success,
    start_app,
    texts,
    upload,
)
from tests.support.uploaded_models import CASES

SCALE_LABEL = "Pixels this model was trained on"
ONE_POINT = 0.01


def notes(at) -> str:
    return " ".join(texts(at.sidebar.info))


def scale_radio(at):
    (radio,) = [radio for radio in at.sidebar.radio if radio.label == SCALE_LABEL]
    return radio


def shown_accuracy(at) -> float:
    go(at, "class_metrics")
    return float({m.label: m.value for m in at.main.metric}["Test accuracy"].rstrip("%")) / 100


def direct_accuracy(uploaded, data) -> float:
    return float(np.mean(uploaded.direct_outputs(data.x_test).argmax(axis=1) == data.y_test))


@pytest.mark.parametrize("name", list(CASES))
def test_each_convention_works_on_every_page(monkeypatch, tmp_path, uploaded_models, sample_data, name):
    uploaded = uploaded_models[name]
    direct = direct_accuracy(uploaded, sample_data)
    at = start_app(monkeypatch, tmp_path / "runs")
    upload(at, uploaded)
    assert f"uploaded {uploaded.path.name}" in sidebar_success(at)
    assert not at.sidebar.error
    assert (f"takes input of shape {uploaded.input_layout}" in notes(at)) == (uploaded.input_layout != (28, 28))
    assert ("This model outputs logits; probabilities are its softmax." in notes(at)) == uploaded.outputs_logits
    assert f"It is fed pixels in 0–{uploaded.pixel_scale:g}, which scores clearly better" in notes(at)
    assert scale_radio(at).value == uploaded.pixel_scale

    for page in (spec.module for spec in ANALYSIS_PAGES):
        go(at, page)
        assert f"uploaded {uploaded.path.name}" in sidebar_success(at), page
        if page == "training_curves":
            assert any("no training history" in info for info in texts(at.main.info))
        elif page == "class_metrics":
            accuracy = {m.label: m.value for m in at.main.metric}["Test accuracy"]
            assert float(accuracy.rstrip("%")) / 100 == pytest.approx(direct, abs=ONE_POINT)
        elif page == "weights":
            assert any(f"`{uploaded.first_layer}`" in m for m in texts(at.main.markdown))
            assert {"weight_mosaic", "unit_preference"} <= set(charts(at))
        elif page == "activations":
            probabilities = plotly_array(charts(at)["output_probabilities"]["data"][0]["y"])
            assert len(probabilities) == 10 and probabilities.sum() == pytest.approx(1.0, abs=1e-3)
            assert any(m.startswith("**Output:** predicted") for m in texts(at.main.markdown))
        elif page == "draw":
            assert "Draw a digit on the black canvas to see what the model predicts." in texts(at.main.info)


def test_the_pixel_scale_can_be_overridden_in_the_sidebar(monkeypatch, tmp_path, uploaded_models):
    at = start_app(monkeypatch, tmp_path / "runs")
    upload(at, uploaded_models["pixels_0_255"])
    measured = shown_accuracy(at)
    scale_radio(at).set_value(1.0)
    at.run()
    assert_no_exception(at)
    assert "It is fed pixels in 0–1, as you chose" in notes(at)
    assert scale_radio(at).value == 1.0
    assert shown_accuracy(at) < measured - 0.1
    scale_radio(at).set_value(255.0)
    at.run()
    assert_no_exception(at)
    assert "It is fed pixels in 0–255, which scores clearly better" in notes(at)
    assert shown_accuracy(at) == measured


def test_an_upload_kept_as_a_run_is_listed_and_reloads(monkeypatch, tmp_path, uploaded_models):
    root = tmp_path / "runs"
    uploaded = uploaded_models["quickstart_logits"]
    at = start_app(monkeypatch, root)
    upload(at, uploaded)
    accuracy = shown_accuracy(at)
    press(at, "Keep as a run")
    (run,) = RunStore(root).list_runs()[0]
    assert run.config.arch == UPLOADED_ARCH and run.record.upload.outputs_logits
    assert run.test_accuracy == pytest.approx(accuracy, abs=1e-4)
    assert f"**Active model:** {run.label}" in texts(at.sidebar.success)
    assert f"Uploaded as `{uploaded.path.name}` and kept as a run, with its adapter." in texts(at.sidebar.caption)
    assert not [b for b in at.sidebar.button if b.label == "Keep as a run"]
    go(at, "training_curves")
    assert any("no training history" in info for info in texts(at.main.info))

    fresh = start_app(monkeypatch, root)  # a new session loads it from the store, in safe mode
    load_run(fresh, run.run_id)
    assert shown_accuracy(fresh) == accuracy
    go(fresh, "activations")
    assert plotly_array(charts(fresh)["output_probabilities"]["data"][0]["y"]).sum() == pytest.approx(1.0, abs=1e-3)
