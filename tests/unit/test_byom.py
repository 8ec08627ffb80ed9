"""Bring your own model: models trained elsewhere are adapted to 28×28 in [0, 1] → 10 probabilities.

Each model of tests/support/uploaded_models.py is trained briefly on the offline sample with its own
convention, saved as .keras, loaded and adapted (core.adapters), and compared with itself called
directly. The dashboard side is in tests/app/test_byom_dashboard.py.
"""

from __future__ import annotations

import zipfile

import keras
import numpy as np
import pytest

from core.adapters import adapt_model, adaptation_of, inner_model, is_adapted, load_user_model
from core.analysis.evaluation import evaluate, predict_probabilities
from core.analysis.inspection import first_layer_weights, layer_activations
from core.cli import main
from core.ensemble import build_ensemble, inspectable_model
from core.errors import ConfigError
from core.runs import MODEL_FILE, RunStore, load_model_file
from core.uploads import UPLOADED_ARCH, keep_as_run
from tests.support.uploaded_models import CASES

NAMES = list(CASES)
ONE_POINT = 0.01


def adapted(uploaded, data, pixel_scale=None):
    return load_user_model(uploaded.path, data.x_test, data.y_test, pixel_scale)


def direct_accuracy(uploaded, data) -> float:
    return float(np.mean(uploaded.direct_outputs(data.x_test).argmax(axis=1) == data.y_test))


@pytest.mark.parametrize("name", NAMES)
def test_each_model_is_adapted_and_scores_like_itself_called_directly(uploaded_models, sample_data, name):
    uploaded = uploaded_models[name]
    result = adapted(uploaded, sample_data)
    assert (result.input_layout, result.outputs_logits, result.pixel_scale) == (
        uploaded.input_layout,
        uploaded.outputs_logits,
        uploaded.pixel_scale,
    )
    assert result.model.input_shape == (None, 28, 28) and result.model.output_shape == (None, 10)
    evaluation = evaluate(result.model, sample_data.x_test, sample_data.y_test)
    direct = direct_accuracy(uploaded, sample_data)
    print(f"{name}: direct {direct:.4f} · adapted {evaluation.accuracy:.4f}")
    assert evaluation.accuracy == pytest.approx(direct, abs=ONE_POINT)
    assert evaluation.accuracy > 0.5  # trained, not guessing
    np.testing.assert_allclose(evaluation.probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert evaluation.probabilities.min() >= 0


@pytest.mark.parametrize("name", NAMES)
def test_the_notes_say_what_the_adapter_does(uploaded_models, small_data, name):
    uploaded = uploaded_models[name]
    notes = " ".join(adapted(uploaded, small_data).notes())
    reshaped = f"takes input of shape {uploaded.input_layout}: the 28×28 images are reshaped"
    assert (reshaped in notes) == (uploaded.input_layout != (28, 28))
    assert ("outputs logits; probabilities are its softmax" in notes) == uploaded.outputs_logits
    assert f"fed pixels in 0–{uploaded.pixel_scale:g}, which scores clearly better" in notes
    other = "0–1" if uploaded.pixel_scale == 255 else "0–255"
    assert "% accuracy against " in notes and f"% with {other}" in notes
    assert f"{len(small_data.y_test)} test images)" in notes


def test_logits_are_turned_into_their_softmax(uploaded_models, sample_data):
    uploaded = uploaded_models["quickstart_logits"]
    logits = uploaded.direct_outputs(sample_data.x_test[:50])
    assert logits.min() < 0  # really logits
    probabilities = predict_probabilities(adapted(uploaded, sample_data).model, sample_data.x_test[:50])
    np.testing.assert_allclose(probabilities, keras.ops.convert_to_numpy(keras.ops.softmax(logits)), atol=1e-5)


def test_the_pixel_scale_can_be_overridden(uploaded_models, sample_data):
    uploaded = uploaded_models["pixels_0_255"]
    measured = adapted(uploaded, sample_data)
    forced = adapted(uploaded, sample_data, pixel_scale=1.0)
    assert (measured.pixel_scale, forced.pixel_scale) == (255.0, 1.0)
    assert forced.scale_chosen_by_user and "fed pixels in 0–1, as you chose" in forced.notes()[-1]
    assert forced.scale_scores == measured.scale_scores
    scores = measured.scale_scores
    assert scores[255.0].accuracy > scores[1.0].accuracy or scores[255.0].log_loss < scores[1.0].log_loss
    accuracy = {
        result.pixel_scale: evaluate(result.model, sample_data.x_test, sample_data.y_test).accuracy
        for result in (measured, forced)
    }
    assert accuracy[255.0] > accuracy[1.0]
    with pytest.raises(ConfigError, match="pixel scale must be one of 1, 255"):
        adapted(uploaded, sample_data, pixel_scale=100.0)


def test_a_model_in_the_apps_convention_is_left_as_it_is(trained_store, small_data, tmp_path):
    store, result = trained_store
    model = store.load_model(result.run.run_id)
    same = adapt_model(model, small_data.x_test, small_data.y_test)
    assert same.model is model and not is_adapted(model)
    assert (same.input_layout, same.outputs_logits, same.pixel_scale) == ((28, 28), False, 1.0)
    kept = keep_as_run(same, "mine.keras", small_data, RunStore(tmp_path)).record
    assert kept.is_uploaded and not kept.upload.was_adapted


@pytest.mark.parametrize("name", ["quickstart_logits", "pixels_0_255", "channels_first", "flat_784"])
def test_a_kept_upload_reloads_the_same_way_in_safe_mode(uploaded_models, sample_data, tmp_path, name):
    uploaded = uploaded_models[name]
    result = adapted(uploaded, sample_data)
    store = RunStore(tmp_path / "runs")
    run = keep_as_run(result, f"{name}.keras", sample_data, store)
    config = zipfile.ZipFile(run.path / MODEL_FILE).read("config.json").decode()
    assert "digit_lab>InputAdapter" in config and "Lambda" not in config
    reloaded = store.load_model(run.run_id)  # safe mode, like every run
    before = predict_probabilities(result.model, sample_data.x_test)
    np.testing.assert_allclose(predict_probabilities(reloaded, sample_data.x_test), before, atol=1e-6)
    saved = adaptation_of(reloaded)
    assert (saved.input_layout, saved.outputs_logits, saved.pixel_scale) == (
        result.input_layout,
        result.outputs_logits,
        result.pixel_scale,
    )
    record = store.get(run.run_id).record
    assert record.is_uploaded and record.upload.was_adapted
    assert record.config.arch == UPLOADED_ARCH and record.history == ()
    assert record.upload.file_name == f"{name}.keras" and record.upload.input_layout == uploaded.input_layout
    assert (record.upload.outputs_logits, record.upload.pixel_scale) == (uploaded.outputs_logits, uploaded.pixel_scale)
    assert record.test_metrics.accuracy == pytest.approx(float(np.mean(before.argmax(axis=1) == sample_data.y_test)))
    assert record.test_metrics.count == len(sample_data.y_test)
    assert run.run_id.endswith(name.replace("_", "-")) and UPLOADED_ARCH in run.label


def test_a_kept_upload_uploaded_again_is_adapted_afresh_not_twice(uploaded_models, sample_data, tmp_path):
    result = adapted(uploaded_models["quickstart_logits"], sample_data)
    run = keep_as_run(result, "quickstart.keras", sample_data, RunStore(tmp_path))
    again = load_user_model(run.path / MODEL_FILE, sample_data.x_test, sample_data.y_test)
    assert again.outputs_logits and again.pixel_scale == 1.0
    inner = inner_model(again.model)
    assert not is_adapted(inner) and inner.name == "quickstart"
    np.testing.assert_allclose(
        predict_probabilities(again.model, sample_data.x_test[:100]),
        predict_probabilities(result.model, sample_data.x_test[:100]),
        atol=1e-6,
    )


@pytest.mark.parametrize("name", NAMES)
def test_inspection_sees_the_models_own_layers(uploaded_models, sample_data, name):
    uploaded = uploaded_models[name]
    result = adapted(uploaded, sample_data)
    view = inspectable_model(result.model)
    own_layers = [
        layer.name for layer in load_model_file(uploaded.path).layers if not isinstance(layer, keras.layers.InputLayer)
    ]
    view_layers = [layer.name for layer in view.layers]
    assert [layer for layer in view_layers if layer in own_layers] == own_layers
    assert inspectable_model(result.model) is view  # built once per model
    images = sample_data.x_test[:8]
    activations = layer_activations(view, images)
    np.testing.assert_allclose(
        activations[view.layers[-1].name], predict_probabilities(result.model, images), rtol=1e-4, atol=1e-5
    )
    assert first_layer_weights(view).layer_name == uploaded.first_layer


def test_adapted_uploads_make_an_ensemble(uploaded_models, sample_data):
    members = [adapted(uploaded_models[name], sample_data).model for name in ("keras_io_convnet", "quickstart_logits")]
    separate = [predict_probabilities(member, sample_data.x_test) for member in members]
    ensemble = build_ensemble(members)
    together = predict_probabilities(ensemble, sample_data.x_test)
    np.testing.assert_allclose(together, np.mean(separate, axis=0), atol=1e-5)
    assert first_layer_weights(inspectable_model(ensemble)).layer_name == "conv_a"


# ---- the command line ----------------------------------------------------------------------------


def test_evaluate_scores_model_files_beside_runs(uploaded_models, trained_store, sample_data, capsys):
    store, result = trained_store
    files = [str(uploaded_models[name].path) for name in ("flat_784", "quickstart_logits")]
    arguments = [files[0], result.run.run_id, files[1]]
    code = main(["evaluate", "--source", "sample", "--runs-dir", str(store.root), *arguments])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{files[0]}: It takes input of shape (784,)" in out
    assert f"{files[1]}: This model outputs logits; probabilities are its softmax." in out
    scores = {line.split(": test accuracy ")[0]: line for line in out.splitlines() if ": test accuracy " in line}
    assert list(scores) == [files[0], result.run.run_id, files[1], "ensemble of 3"]
    for name, file in zip(("flat_784", "quickstart_logits"), files, strict=True):
        accuracy = float(scores[file].split("test accuracy ")[1].split(" ")[0])
        assert accuracy == pytest.approx(direct_accuracy(uploaded_models[name], sample_data), abs=ONE_POINT)


def test_evaluate_takes_a_pixel_scale_for_model_files(uploaded_models, tmp_path, capsys):
    path = str(uploaded_models["pixels_0_255"].path)
    assert main(["evaluate", "--source", "sample", "--runs-dir", str(tmp_path), path]) == 0
    measured = capsys.readouterr().out
    assert main(["evaluate", "--source", "sample", "--runs-dir", str(tmp_path), "--pixel-scale", "1", path]) == 0
    forced = capsys.readouterr().out
    assert "fed pixels in 0–255, which scores clearly better" in measured
    assert "fed pixels in 0–1, as you chose" in forced


@pytest.mark.parametrize(
    "argument, message",
    [("missing.keras", "missing.keras: no such file"), ("no-such-run", "no run 'no-such-run'")],
)
def test_evaluate_refuses_a_missing_file_or_run_before_loading_data(tmp_path, capsys, argument, message):
    assert main(["evaluate", "--source", "sample", "--runs-dir", str(tmp_path), argument]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and message in captured.err and "data:" not in captured.out


def test_evaluate_refuses_a_model_of_another_shape(tmp_path, capsys):
    path = tmp_path / "colour.keras"
    keras.Sequential([keras.Input((28, 28, 3)), keras.layers.Flatten(), keras.layers.Dense(10)]).save(path)
    assert main(["evaluate", "--source", "sample", "--runs-dir", str(tmp_path), str(path)]) == 2
    assert "accepted input shapes are (28, 28), (28, 28, 1), (1, 28, 28), (784,)" in capsys.readouterr().err
