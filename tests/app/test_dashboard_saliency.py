"""Saliency overlays (gallery Inspect, Activations, Draw), the What-if page and the Robustness page, with AppTest.

Like tests/app/test_dashboard.py: the offline sample (1,000 test images) and copies of the session's tiny runs.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from core.analysis.perturbations import PERTURBATIONS
from tests.support.apptest import assert_no_exception, captions, charts, go, load_run, plotly_array, press, start_app

DATA_URI = "data:image/png;base64,"


@pytest.fixture(scope="module")
def runs(tiny_runs, tmp_path_factory):
    """A store with a tiny MLP and a tiny CNN. Read-only."""
    return tiny_runs.store_with(tmp_path_factory.mktemp("saliency-dashboard-runs"), mlp="beta", cnn="gamma")


def saliency_captions(at) -> list[str]:
    return [c for c in captions(at) if "red speaks for it" in c or c.startswith("Grad-CAM, why")]


def png_size(url: str) -> tuple[int, int]:
    return Image.open(io.BytesIO(base64.b64decode(url.removeprefix(DATA_URI)))).size


def overlays(at) -> list[str]:
    """The inline 224×224 PNGs (every digit image else is 28×28): the saliency overlays."""
    urls = [url for image in at.main.get("image") for url in image.value]
    return [url for url in urls if url.startswith(DATA_URI) and png_size(url) == (224, 224)]


def test_activations_explains_its_image_for_the_question_asked(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["mlp"])
    go(at, "activations")
    (overlay,) = overlays(at)
    assert overlay.startswith(DATA_URI)
    (caption,) = saliency_captions(at)
    assert caption.startswith("integrated gradients, why ") and "black baseline" in caption
    assert "Grad-CAM needs a convolution; this model has none." in captions(at)
    assert "Grad-CAM" not in at.button_group(key="activations_saliency_method").options

    question = at.selectbox[[s.label for s in at.selectbox].index("Question")]
    predicted = int(question.value[0])
    other = (predicted + 1) % 10
    question.set_value((predicted, other)).run()
    assert_no_exception(at)
    (caption,) = saliency_captions(at)
    assert f"why {predicted} and not {other}" in caption
    assert overlays(at)[0] != overlay

    at.selectbox(key="activations_saliency_baseline").set_value("blurred").run()
    assert_no_exception(at)
    assert "blurred baseline" in saliency_captions(at)[0]
    at.button_group(key="activations_saliency_method").set_value("gradient × input").run()
    assert_no_exception(at)
    assert saliency_captions(at)[0].startswith("gradient × input")
    assert any('class="dl-scale"' in html.value for html in at.main.html)  # the colour scale


def test_inspecting_a_gallery_image_shows_grad_cam_for_a_cnn(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["cnn"])
    go(at, "misclassifications")
    assert not overlays(at)
    inspect = [b for b in at.main.button if b.label == "Inspect" and b.key.startswith("inspect_")][0]
    inspect.click().run()
    assert_no_exception(at)
    assert len(overlays(at)) == 1
    methods = at.button_group(key="gallery_saliency_method")
    assert "Grad-CAM" in methods.options
    methods.set_value("Grad-CAM").run()
    assert_no_exception(at)
    caption = " ".join(captions(at))
    assert "Grad-CAM, why" in caption and "last convolutional block" in caption


def test_draw_saliency_is_off_by_default(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["cnn"])
    go(at, "draw")
    assert at.toggle(key="draw_saliency").value is False
    assert not overlays(at) and not at.main.html


def test_what_if_sliders_change_the_digit_and_the_probabilities(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["cnn"])
    go(at, "what_if")
    assert {slider.key for slider in at.main.slider} == {f"what_if_{p.name}" for p in PERTURBATIONS}
    (original,) = [url for image in at.main.get("image") for url in image.value]
    before = plotly_array(charts(at)["what_if_probabilities"]["data"][0]["y"])
    at.slider(key="what_if_rotation").set_value(60.0).run()
    at.slider(key="what_if_thickness").set_value(2.0).run()
    assert_no_exception(at)
    (changed,) = [url for image in at.main.get("image") for url in image.value]
    after = plotly_array(charts(at)["what_if_probabilities"]["data"][0]["y"])
    assert changed != original and not np.allclose(before, after)
    assert any(c.startswith("Transform, prediction and image took") for c in captions(at))
    press(at, "Reset")
    assert at.slider(key="what_if_rotation").value == 0
    assert [url for image in at.main.get("image") for url in image.value] == [original]


def test_robustness_measures_the_active_model_and_overlays_another(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["mlp"])
    go(at, "robustness")
    assert "robustness_curves" not in charts(at)
    assert any("Not measured yet" in info.value for info in at.main.info)
    levels = sum(len(p.levels) for p in PERTURBATIONS)
    at.button(key="robustness_measure").click().run()
    assert_no_exception(at)
    figure = charts(at)["robustness_curves"]
    assert len(figure["data"]) == len(PERTURBATIONS)
    assert [a["text"] for a in figure["layout"]["annotations"]][:2] == ["rotation (°)", "shift x (px)"]
    table = at.main.dataframe[0].value
    assert len(table) == 1 + levels and len(table.columns) == 1

    at.multiselect(key="robustness_compare").set_value([r for r in at.multiselect[0].options if "cnn" in r]).run()
    assert_no_exception(at)
    at.button(key="robustness_measure").click().run()
    assert_no_exception(at)
    figure = charts(at)["robustness_curves"]
    assert len(figure["data"]) == 2 * len(PERTURBATIONS)
    assert len(at.main.dataframe[0].value.columns) == 2
