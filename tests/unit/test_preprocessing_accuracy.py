"""A model keeps its accuracy on MNIST test digits that went through the canvas preprocessing.

The digits are scaled up ×10 as a canvas would deliver them (280×280 RGBA, white ink on black,
alpha 255 where there is ink and 0 elsewhere), then turned back into 28×28 inputs by
`digit_from_canvas`. Against the untouched originals, with the same model, at most one point of
accuracy may be lost.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.analysis.evaluation import evaluate
from core.analysis.inspection import predict_digit
from core.config import TrainConfig
from core.preprocessing import digit_from_canvas
from core.training import train

SCALE = 10
CANVAS = 28 * SCALE
MAX_ACCURACY_DROP = 0.01


@pytest.fixture(scope="module")
def model(sample_data):
    """The seed MLP trained on the offline sample's 4,000 training digits (about 93 % on its test set)."""
    config = TrainConfig.for_arch("mlp", epochs=8, patience=8, seed=0)
    return train(config, sample_data).model


def upscale(digit: np.ndarray, method: str) -> np.ndarray:
    if method == "nearest":
        return np.kron(digit, np.ones((SCALE, SCALE), dtype=np.uint8))
    return np.asarray(Image.fromarray(digit).resize((CANVAS, CANVAS), Image.Resampling.BILINEAR))


def as_canvas(ink: np.ndarray) -> np.ndarray:
    """What streamlit-drawable-canvas returns for white strokes on its black background."""
    rgba = np.zeros((CANVAS, CANVAS, 4), dtype=np.uint8)
    rgba[..., :3] = ink[..., None]
    rgba[..., 3] = np.where(ink > 0, 255, 0)
    return rgba


@pytest.mark.parametrize("method", ["nearest", "bilinear"])
def test_canvas_preprocessing_loses_at_most_one_point_of_accuracy(model, sample_data, method):
    images, labels = sample_data.x_test, sample_data.y_test
    assert len(labels) == 1000

    original_accuracy = evaluate(model, images, labels).accuracy
    assert original_accuracy >= 0.90

    digits = [digit_from_canvas(as_canvas(upscale(image, method))) for image in images]
    assert all(d is not None and d.shape == (28, 28) and d.dtype == np.float32 for d in digits)
    processed = np.stack(digits)
    assert processed.min() >= 0.0 and processed.max() <= 1.0
    probabilities = np.asarray(model(processed, training=False))
    processed_accuracy = float(np.mean(probabilities.argmax(axis=1) == labels))

    drop = original_accuracy - processed_accuracy
    assert drop <= MAX_ACCURACY_DROP + 1e-9, (
        f"{method} upscale: {original_accuracy:.1%} on the originals, "
        f"{processed_accuracy:.1%} after the canvas preprocessing"
    )

    # The single-image path the Draw page uses agrees with the batched call.
    for index in range(5):
        np.testing.assert_allclose(predict_digit(model, processed[index]), probabilities[index], atol=1e-5)

    # The round trip gives back nearly the same picture: the box is taken over strong ink, so a
    # digit's faint rim may be cropped and the digit drawn slightly larger, never elsewhere.
    assert np.abs(processed - images / 255.0).mean() < 0.06
