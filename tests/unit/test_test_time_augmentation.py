"""Test-time augmentation: a model's reading of each digit averaged with its reading of rotated copies."""

import numpy as np
import pytest

from core.analysis.evaluation import predict_probabilities
from core.config import TrainConfig
from core.models import build_model
from core.test_time_augmentation import ROTATION_ANGLES, predict_with_rotations, rotated


def bar_above_the_centre() -> np.ndarray:
    image = np.zeros((1, 28, 28), np.uint8)
    image[0, 4:14, 13:15] = 255
    return image


def test_a_quarter_turn_is_anticlockwise_as_the_digit_is_seen():
    turned = rotated(bar_above_the_centre(), 90)
    np.testing.assert_array_equal(turned, np.rot90(bar_above_the_centre(), 1, axes=(1, 2)))
    rows, columns = np.nonzero(turned[0] > 128)
    assert columns.mean() < 13 and 12 <= rows.mean() <= 15  # the bar went to the left


def test_no_turn_leaves_the_digits_as_they_are(sample_data):
    digits = sample_data.x_test[:5]
    np.testing.assert_array_equal(rotated(digits, 0.0), digits)


def test_a_small_turn_keeps_the_ink_and_moves_it(sample_data):
    digits = sample_data.x_test[:20]
    turned = rotated(digits, 8.0)
    assert turned.dtype == np.uint8 and turned.shape == digits.shape
    assert np.abs(turned.astype(float).sum() / digits.astype(float).sum() - 1) < 0.05
    assert (turned != digits).mean() > 0.02


@pytest.fixture(scope="module")
def model():
    return build_model(TrainConfig.for_arch("cnn"))


def test_the_reading_is_the_mean_over_the_digit_and_each_rotation(model, sample_data):
    digits = sample_data.x_test[:32]
    expected = np.mean(
        [predict_probabilities(model, digits)]
        + [predict_probabilities(model, rotated(digits, angle)) for angle in ROTATION_ANGLES],
        axis=0,
    )
    averaged = predict_with_rotations(model, digits)
    np.testing.assert_allclose(averaged, expected, atol=1e-6)
    np.testing.assert_allclose(averaged.sum(axis=1), 1.0, atol=1e-5)
    assert not np.allclose(averaged, predict_probabilities(model, digits), atol=1e-4)


def test_without_angles_it_is_the_plain_reading(model, sample_data):
    digits = sample_data.x_test[:8]
    np.testing.assert_allclose(predict_with_rotations(model, digits, angles=()), predict_probabilities(model, digits))


def test_a_reading_already_made_is_used_as_it_is(model, sample_data):
    digits = sample_data.x_test[:8]
    as_they_are = predict_probabilities(model, digits)
    np.testing.assert_allclose(
        predict_with_rotations(model, digits, as_they_are=as_they_are), predict_with_rotations(model, digits), atol=1e-6
    )
    uniform = np.full_like(as_they_are, 0.1)
    assert not np.allclose(
        predict_with_rotations(model, digits, as_they_are=uniform), predict_with_rotations(model, digits)
    )
