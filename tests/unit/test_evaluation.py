"""Evaluation numbers against a hand-computed case; inspection of weights and activations."""

import gc
import weakref

import numpy as np
import pytest
import tensorflow as tf

from core.analysis.evaluation import Evaluation, confusion_cell, evaluate, misclassified, most_confused_pairs
from core.analysis.inspection import (
    class_preference,
    compiled_batch_forward,
    compiled_forward,
    first_layer_weights,
    layer_activations,
    predict_digit,
)
from core.config import TrainConfig
from core.models import build_model


def one_hot_probabilities(predicted, confidence):
    """Probabilities whose argmax is `predicted`, with the given top probability."""
    probabilities = np.full((len(predicted), 10), 0.0, dtype=np.float32)
    for row, (label, top) in enumerate(zip(predicted, confidence, strict=True)):
        probabilities[row] = (1 - top) / 9
        probabilities[row, label] = top
    return probabilities


@pytest.fixture
def hand_case():
    # true:      0  0  0  1  1  2  2  2  2  3
    # predicted: 0  0  1  1  1  2  3  3  2  3
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    predicted = np.array([0, 0, 1, 1, 1, 2, 3, 3, 2, 3])
    confidence = np.array([0.9, 0.8, 0.6, 0.9, 0.7, 0.95, 0.5, 0.99, 0.8, 0.9])
    return Evaluation(labels, one_hot_probabilities(predicted, confidence))


def test_accuracy_confusion_and_report_match_hand_computation(hand_case):
    assert hand_case.accuracy == pytest.approx(0.7)
    expected = np.zeros((10, 10), dtype=int)
    for true, pred, count in [(0, 0, 2), (0, 1, 1), (1, 1, 2), (2, 2, 2), (2, 3, 2), (3, 3, 1)]:
        expected[true, pred] = count
    np.testing.assert_array_equal(hand_case.confusion, expected)
    report = hand_case.report
    # class 1: predicted 3 times, 2 right → precision 2/3; all 2 true found → recall 1.
    assert report.loc["1", "precision"] == pytest.approx(2 / 3)
    assert report.loc["1", "recall"] == pytest.approx(1.0)
    assert report.loc["1", "f1-score"] == pytest.approx(0.8)
    # class 3: predicted 3 times, 1 right → precision 1/3, recall 1, F1 0.5.
    assert report.loc["3", "f1-score"] == pytest.approx(0.5)
    assert report.loc["2", "support"] == 4
    assert report.loc["5", "support"] == 0
    assert list(report.index[-2:]) == ["macro avg", "weighted avg"]
    weighted = report.loc["weighted avg", "f1-score"]
    f1 = report.loc[["0", "1", "2", "3"], "f1-score"].to_numpy()
    assert weighted == pytest.approx(np.average(f1, weights=[3, 2, 4, 1]))
    summary = hand_case.summary()
    assert summary["errors"] == 3 and summary["count"] == 10


def test_misclassified_filters_and_sorts_by_confidence(hand_case):
    assert misclassified(hand_case).tolist() == [7, 2, 6]  # confidences 0.99, 0.6, 0.5
    assert misclassified(hand_case, most_confident_first=False).tolist() == [6, 2, 7]
    assert misclassified(hand_case, true_class=2).tolist() == [7, 6]
    assert misclassified(hand_case, predicted_class=1).tolist() == [2]
    assert misclassified(hand_case, true_class=1).tolist() == []


def test_a_confusion_cell_holds_exactly_its_images_sorted_by_confidence(hand_case):
    assert confusion_cell(hand_case, 2, 3, most_confident_first=True).tolist() == [7, 6]  # 0.99, 0.5
    assert confusion_cell(hand_case, 2, 3, most_confident_first=False).tolist() == [6, 7]
    # The diagonal: the digit's correct images, least confident (the near misses) first.
    assert confusion_cell(hand_case, 0, 0, most_confident_first=False).tolist() == [1, 0]  # 0.8, 0.9
    assert confusion_cell(hand_case, 3, 0, most_confident_first=True).tolist() == []
    for true in range(4):
        for predicted in range(4):
            cell = confusion_cell(hand_case, true, predicted, most_confident_first=True)
            assert len(cell) == hand_case.confusion[true, predicted]


def test_most_confused_pairs(hand_case):
    pairs = most_confused_pairs(hand_case.confusion)
    assert [(pair.true, pair.predicted, pair.count) for pair in pairs] == [(2, 3, 2), (0, 1, 1)]
    true_twos = int(np.sum(hand_case.labels == 2))
    assert pairs[0].share_of_true == pytest.approx(2 / true_twos)


def test_evaluate_a_trained_model(trained_store, sample_data):
    _, result = trained_store
    evaluation = evaluate(result.training.model, sample_data.x_test, sample_data.y_test)
    assert evaluation.probabilities.shape == (1000, 10)
    np.testing.assert_allclose(evaluation.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert evaluation.accuracy > 0.8
    assert evaluation.confusion.sum() == 1000


def test_single_image_prediction_matches_batch(trained_store, sample_data):
    _, result = trained_store
    model = result.training.model
    batch = evaluate(model, sample_data.x_test[:5], sample_data.y_test[:5]).probabilities
    for index in range(5):
        single = predict_digit(model, sample_data.x_test[index])
        np.testing.assert_allclose(single, batch[index], atol=1e-5)
    as_float = predict_digit(model, sample_data.x_test[0].astype(np.float32) / 255)
    np.testing.assert_allclose(as_float, batch[0], atol=1e-5)


def test_tensorflows_one_image_pass_is_traced_once_and_follows_weight_changes(sample_data):
    """The XLA pass (for models LiteRT cannot run) reads the variables when called."""
    model = build_model(TrainConfig.for_arch("mlp"))
    forward = compiled_forward(model)
    image = tf.constant(sample_data.x_test[:1] / 255, dtype=tf.float32)
    for _ in range(3):
        forward(image)
    output = model.get_layer("output")
    kernel, bias = output.get_weights()
    bias[3] = 100.0  # class 3 now wins whatever the image
    output.set_weights([kernel, bias])
    assert np.asarray(compiled_forward(model)(image))[0].argmax() == 3
    assert compiled_forward(model).experimental_get_tracing_count() == 1


def test_single_image_pass_is_one_xla_program_and_the_batch_pass_is_not(sample_data):
    """XLA for one image (the Draw page's latency); the batch pass takes any size, so no XLA there."""
    model = build_model(TrainConfig.for_arch("cnn"))
    one_image = tf.constant(sample_data.x_test[:1] / 255, dtype=tf.float32)
    assert "HloModule" in compiled_forward(model).experimental_get_compiler_ir(one_image)(stage="hlo")
    with pytest.raises(ValueError, match="jit_compile"):
        compiled_batch_forward(model).experimental_get_compiler_ir(one_image)


def test_tensorflows_compiled_pass_does_not_keep_the_model_alive(sample_data):
    model = build_model(TrainConfig.for_arch("cnn"))
    compiled_forward(model)(tf.constant(sample_data.x_test[:1] / 255, dtype=tf.float32))
    model_ref = weakref.ref(model)
    del model
    gc.collect()
    assert model_ref() is None


def test_first_layer_weights_as_images(trained_store):
    _, result = trained_store
    weights = first_layer_weights(result.training.model)
    assert weights.kind == "dense" and weights.images.shape == (128, 28, 28)
    kernel = result.training.model.get_layer("hidden_1").get_weights()[0]
    np.testing.assert_array_equal(weights.images[5].ravel(), kernel[:, 5])


def test_conv_kernels_as_images():
    weights = first_layer_weights(build_model(TrainConfig.for_arch("cnn")))
    assert weights.kind == "conv" and weights.images.shape == (32, 3, 3)


def test_activations_of_every_layer(trained_store, sample_data):
    _, result = trained_store
    model = result.training.model
    activations = layer_activations(model, sample_data.x_test[:3])
    assert list(activations) == ["flatten", "hidden_1", "dropout_1", "output"]
    assert activations["hidden_1"].shape == (3, 128)
    assert (activations["hidden_1"] >= 0).all()  # relu
    np.testing.assert_allclose(activations["output"][0], predict_digit(model, sample_data.x_test[0]), atol=1e-5)


def test_class_preference_per_unit(trained_store, sample_data):
    _, result = trained_store
    preference = class_preference(result.training.model, sample_data.x_test, sample_data.y_test)
    table = preference.mean_activation
    assert preference.layer_name == "hidden_1" and table.shape == (128, 10)
    hidden = layer_activations(result.training.model, sample_data.x_test)["hidden_1"]
    zeros = sample_data.y_test == 0
    np.testing.assert_allclose(table[:, 0], hidden[zeros].mean(axis=0), rtol=1e-5, atol=1e-6)
    favourites = preference.favourite_digits(top=3)
    assert favourites.shape == (128, 3)
    unit = int(np.argmax(table[:, 7]))  # the unit most excited by 7s lists 7 among its favourites
    assert table[unit, favourites[unit, 0]] == table[unit].max()
    assert (np.diff(np.take_along_axis(table, favourites, axis=1), axis=1) <= 0).all()


def test_activations_accept_floats_as_already_normalised(trained_store, sample_data):
    model = trained_store[1].training.model
    as_uint8 = layer_activations(model, sample_data.x_test[:2])["output"]
    as_float = layer_activations(model, sample_data.x_test[:2].astype(np.float32) / 255)["output"]
    np.testing.assert_allclose(as_float, as_uint8, atol=1e-6)
