"""Calibration in core: scores on hand-made and synthetic cases, temperature scaling, selective prediction,
the held-out images a temperature is fitted on, and the temperature a run records."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from scipy.special import softmax

from core.analysis.calibration import (
    accuracy_coverage_curve,
    answer,
    apply_temperature,
    brier_score,
    calibration_report,
    fit_temperature,
    images_to_fit_on,
    negative_log_likelihood,
    reliability_diagram,
    scaled_evaluation,
    selective_prediction,
    temperature_scaling,
)
from core.analysis.evaluation import Evaluation, predict_probabilities
from core.config import TrainConfig
from core.data import MnistData
from core.record import SCHEMA_VERSION, RunRecord, TemperatureScaling, UploadSummary
from core.runs import RunInfo, RunStore
from core.training import training_split
from tests.support.records import RUN_V1

# ---- scores on hand-made cases ------------------------------------------------------------------------


def test_reliability_bins_by_hand():
    confidences = np.array([0.05, 0.1, 0.15, 0.6, 0.7, 0.95, 1.0])
    correct = np.array([0, 1, 0, 1, 0, 1, 1])
    bins = reliability_diagram(confidences, correct, bins=4)  # (0, .25], (.25, .5], (.5, .75], (.75, 1]
    np.testing.assert_allclose(bins.edges, [0, 0.25, 0.5, 0.75, 1.0])
    assert bins.counts.tolist() == [3, 0, 2, 2]
    np.testing.assert_allclose(bins.mean_confidence[[0, 2, 3]], [0.1, 0.65, 0.975])
    np.testing.assert_allclose(bins.accuracy[[0, 2, 3]], [1 / 3, 0.5, 1.0])
    assert np.isnan(bins.accuracy[1]) and np.isnan(bins.mean_confidence[1])  # the empty bin
    gaps = [abs(1 / 3 - 0.1), abs(0.5 - 0.65), abs(1.0 - 0.975)]
    assert bins.expected_calibration_error == pytest.approx((3 * gaps[0] + 2 * gaps[1] + 2 * gaps[2]) / 7)
    assert bins.maximum_calibration_error == pytest.approx(max(gaps))


def test_a_bin_holds_its_upper_edge_and_the_first_holds_zero():
    bins = reliability_diagram(np.array([0.0, 0.5, 0.5000001, 1.0]), np.ones(4), bins=2)
    assert bins.counts.tolist() == [2, 2]


def test_nll_and_brier_by_hand():
    probabilities = np.array([[0.5, 0.5, 0.0], [0.1, 0.0, 0.9]])
    labels = np.array([0, 2])
    assert negative_log_likelihood(probabilities, labels) == pytest.approx(-(np.log(0.5) + np.log(0.9)) / 2)
    # (0.5² + 0.5²) and (0.1² + 0.1²)
    assert brier_score(probabilities, labels) == pytest.approx((0.5 + 0.02) / 2)
    assert np.isfinite(negative_log_likelihood(probabilities, np.array([2, 1])))  # a zero is clipped, not -inf


def test_a_perfect_model_scores_zero():
    labels = np.arange(10).repeat(3)
    report = calibration_report(np.eye(10)[labels], labels)
    assert report.ece == pytest.approx(0) and report.mce == pytest.approx(0)
    assert report.brier == pytest.approx(0) and report.nll == pytest.approx(0, abs=1e-12)
    assert report.accuracy == 1.0 and report.count == 30


def test_ece_is_about_zero_on_a_perfectly_calibrated_set():
    """Labels drawn from the very probabilities the 'model' states: right as often as it says, in every bin."""
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.full(10, 0.3), size=200_000)
    labels = (probabilities.cumsum(axis=1) > rng.random((len(probabilities), 1))).argmax(axis=1)
    report = calibration_report(probabilities, labels)
    assert report.ece < 0.005
    assert report.reliability.counts.sum() == len(labels)
    assert abs(report.accuracy - report.mean_confidence) < 0.005
    assert fit_temperature(probabilities, labels) == pytest.approx(1.0, rel=0.02)


def test_an_overconfident_set_has_a_large_ece():
    """Always 99 % sure, right 80 % of the time: ECE 0.19."""
    confidences, correct = np.full(1000, 0.99), np.arange(1000) % 5 != 0
    assert reliability_diagram(confidences, correct).expected_calibration_error == pytest.approx(0.19)


# ---- temperature scaling ----------------------------------------------------------------------------


@pytest.mark.parametrize("true_temperature", [0.5, 1.5, 2.5])
def test_the_fit_recovers_a_known_temperature(true_temperature):
    """Synthetic logits z; the model states softmax(z), the labels follow softmax(z / T)."""
    rng = np.random.default_rng(1)
    logits = rng.normal(0.0, 3.0, size=(20_000, 10))
    truth = softmax(logits / true_temperature, axis=1)
    labels = (truth.cumsum(axis=1) > rng.random((len(truth), 1))).argmax(axis=1)
    stated = softmax(logits, axis=1).astype(np.float32)
    assert fit_temperature(stated, labels) == pytest.approx(true_temperature, rel=0.05)
    scaling = temperature_scaling(stated, labels)
    assert scaling.images == len(labels) and scaling.nll_after < scaling.nll_before
    assert calibration_report(stated, labels, scaling.temperature).ece < calibration_report(stated, labels).ece


def test_temperature_scaling_keeps_the_prediction_and_scales_the_logits():
    rng = np.random.default_rng(2)
    logits = rng.normal(0.0, 4.0, size=(500, 10))
    probabilities = softmax(logits, axis=1).astype(np.float32)
    for temperature in (0.3, 1.0, 2.0, 7.0):
        scaled = apply_temperature(probabilities, temperature)
        assert scaled.dtype == np.float32 and scaled.shape == probabilities.shape
        np.testing.assert_array_equal(scaled.argmax(axis=1), probabilities.argmax(axis=1))
        np.testing.assert_allclose(scaled.sum(axis=1), 1.0, rtol=1e-5)
        np.testing.assert_allclose(scaled, softmax(logits / temperature, axis=1), atol=1e-5)
    hotter = apply_temperature(probabilities, 2.0).max(axis=1)
    assert np.all(hotter <= probabilities.max(axis=1) + 1e-6)  # T > 1 softens
    one = apply_temperature(probabilities[0], 2.0)  # a single image, as Draw passes it
    np.testing.assert_allclose(one, apply_temperature(probabilities, 2.0)[0])
    with pytest.raises(ValueError, match="positive"):
        apply_temperature(probabilities, 0.0)


def test_a_scaled_evaluation_has_the_same_predictions():
    rng = np.random.default_rng(3)
    probabilities = rng.dirichlet(np.full(10, 0.2), size=300).astype(np.float32)
    evaluation = Evaluation(rng.integers(0, 10, 300), probabilities)
    scaled = scaled_evaluation(evaluation, 1.8)
    np.testing.assert_array_equal(scaled.predictions, evaluation.predictions)
    assert scaled.accuracy == evaluation.accuracy and scaled.errors == evaluation.errors
    assert not np.allclose(scaled.confidences, evaluation.confidences)
    assert scaled_evaluation(evaluation, 1.0) is evaluation


def test_a_fit_needs_images():
    with pytest.raises(ValueError, match="at least one"):
        fit_temperature(np.zeros((0, 10)), np.zeros(0, dtype=int))


# ---- selective prediction --------------------------------------------------------------------------------


def test_selective_prediction_by_hand():
    confidences = np.array([0.99, 0.95, 0.9, 0.7, 0.6, 0.3])
    correct = np.array([True, True, False, True, False, False])
    at_90 = selective_prediction(confidences, correct, 0.9)
    assert (at_90.answered, at_90.correct, at_90.count) == (3, 2, 6)
    assert at_90.coverage == pytest.approx(0.5) and at_90.accuracy == pytest.approx(2 / 3)
    everything = selective_prediction(confidences, correct, 0.0)
    assert everything.coverage == 1.0 and everything.accuracy == pytest.approx(0.5)
    nothing = selective_prediction(confidences, correct, 1.0)
    assert nothing.answered == 0 and nothing.coverage == 0.0 and np.isnan(nothing.accuracy)


def test_the_accuracy_coverage_curve_by_hand():
    confidences = np.array([0.9, 0.99, 0.9, 0.5])  # two images share 0.9: a threshold takes both or neither
    correct = np.array([False, True, True, False])
    curve = accuracy_coverage_curve(confidences, correct)
    np.testing.assert_allclose(curve.thresholds, [0.99, 0.9, 0.5])
    np.testing.assert_allclose(curve.coverage, [0.25, 0.75, 1.0])
    np.testing.assert_allclose(curve.accuracy, [1.0, 2 / 3, 0.5])
    for threshold, coverage, accuracy in zip(curve.thresholds, curve.coverage, curve.accuracy, strict=True):
        point = selective_prediction(confidences, correct, threshold)
        assert point.coverage == pytest.approx(coverage) and point.accuracy == pytest.approx(accuracy)


def test_the_curve_is_thinned_to_its_maximum_points():
    rng = np.random.default_rng(4)
    curve = accuracy_coverage_curve(rng.random(10_000), rng.random(10_000) < 0.9, max_points=50)
    assert len(curve.coverage) == 50 and curve.coverage[-1] == 1.0
    assert np.all(np.diff(curve.coverage) > 0) and np.all(np.diff(curve.thresholds) < 0)


def test_draw_answers_not_sure_under_the_threshold():
    probabilities = np.array([0.05, 0.0, 0.62, 0.33, 0, 0, 0, 0, 0, 0])
    assert answer(probabilities, None) == 2  # the default: always answer
    assert answer(probabilities, 0.6) == 2
    assert answer(probabilities, 0.62) == 2  # at the threshold: answered
    assert answer(probabilities, 0.7) is None


# ---- the images a temperature is fitted on -----------------------------------------------------------


def fake_run(run_id: str, config: TrainConfig, data: MnistData, validation: int | None, **changes) -> RunInfo:
    """A listed run whose record says it was trained on `data` (no model file is needed to choose images)."""
    summary = {"source": data.source, "description": data.description, **data.counts(), "validation": validation}
    record = RunRecord.from_dict({"config": config.to_dict(), "data": summary})
    return RunInfo(run_id, None, replace(record, **changes))


def test_a_run_is_fitted_on_the_validation_split_it_held_out(small_data):
    config = TrainConfig.for_arch("mlp", seed=4, train_limit=600, validation_fraction=0.2)
    _, _, x_val, y_val = training_split(config, small_data)
    fit = images_to_fit_on((fake_run("mine", config, small_data, len(y_val)),), small_data)
    np.testing.assert_array_equal(fit.images, x_val)
    np.testing.assert_array_equal(fit.labels, y_val)
    assert len(fit.labels) == 120 and fit.caveat is None
    assert fit.description == "the validation split this run held out in training (120 images)"


def test_an_ensemble_is_fitted_on_its_first_members_split_and_says_so(small_data):
    first, second = TrainConfig.for_arch("mlp", seed=1), TrainConfig.for_arch("mlp", seed=2)
    runs = (fake_run("first", first, small_data, 120), fake_run("second", second, small_data, 120))
    fit = images_to_fit_on(runs, small_data)
    np.testing.assert_array_equal(fit.labels, training_split(first, small_data)[3])
    assert "first member, first" in fit.description and "may have trained on some of these" in fit.caveat


def test_without_a_known_split_a_seeded_training_slice_is_used_and_the_caveat_says_so(small_data, sample_data):
    config = TrainConfig.for_arch("mlp")
    trained_elsewhere = fake_run("kept", config, small_data, None, upload=UploadSummary("mine.keras"))
    other_data = fake_run("other", config, sample_data, 400)  # trained on the whole sample, shown on a slice
    for runs in [(), (trained_elsewhere,), (other_data,)]:
        fit = images_to_fit_on(runs, small_data)
        assert len(fit.labels) == 120 and np.bincount(fit.labels, minlength=10).min() > 0  # stratified
        assert fit.description.startswith("a seeded, stratified 10% of the training set")
        assert "it may have trained on these images" in fit.caveat
        np.testing.assert_array_equal(fit.labels, images_to_fit_on(runs, small_data).labels)  # seeded
    assert "trained elsewhere" in images_to_fit_on((trained_elsewhere,), small_data).caveat
    assert "Run other was trained on other data" in images_to_fit_on((other_data,), small_data).caveat


def test_a_run_whose_recorded_split_differs_is_not_trusted(small_data):
    config = TrainConfig.for_arch("mlp")
    fit = images_to_fit_on((fake_run("odd", config, small_data, 7),), small_data)
    assert fit.caveat is not None


# ---- the temperature a run records ------------------------------------------------------------------------


def test_training_records_a_temperature_fitted_on_the_validation_split(trained_store, sample_data):
    store, result = trained_store
    record = store.get(result.run.run_id).record
    scaling = record.calibration
    assert scaling is not None and record.schema_version == SCHEMA_VERSION == 5
    assert scaling.images == record.data.validation == 400
    _, _, x_val, y_val = training_split(record.config, sample_data)
    expected = temperature_scaling(predict_probabilities(result.training.model, x_val), y_val)
    assert scaling.temperature == pytest.approx(expected.temperature, rel=1e-3)
    assert scaling.nll_after <= scaling.nll_before
    raw = json.loads((result.run.path / "run.json").read_text())
    assert set(raw["calibration"]) == {"temperature", "images", "nll_before", "nll_after"}


def test_a_record_round_trips_with_and_without_a_temperature():
    plain = RunRecord(config=TrainConfig(arch="mlp"))
    assert "calibration" not in plain.to_dict()
    assert RunRecord.from_dict(plain.to_dict()) == plain
    calibrated = replace(plain, calibration=TemperatureScaling(1.37, 6000, 0.05, 0.04))
    data = json.loads(json.dumps(calibrated.to_dict()))
    assert data["calibration"] == {"temperature": 1.37, "images": 6000, "nll_before": 0.05, "nll_after": 0.04}
    assert RunRecord.from_dict(data) == calibrated
    old = RunRecord.from_dict(json.loads(RUN_V1.read_text(encoding="utf-8")))
    assert old.calibration is None and "calibration" not in old.to_dict()
    assert RunRecord.from_dict({"config": {}, "calibration": "garbage"}).calibration is None


def test_an_old_run_and_a_kept_upload_load_without_a_temperature(tmp_path, trained_store):
    _, result = trained_store
    store = RunStore(tmp_path)
    kept = store.save(result.training.model, RunRecord(config=TrainConfig(arch="uploaded"), upload=UploadSummary()))
    assert store.get(kept.run_id).record.calibration is None
