"""Test-time augmentation: a model's probabilities averaged over each digit and slightly rotated copies of it.

The accuracy recipes train on digits rotated by up to ±10° (core/augmentation.py), so a model has seen slants
that the test set's writers also have. Averaging its reading of the digit as it is and turned a few degrees
either way took ten saved deep_cnn runs from 216 to 205 errors on their own validation splits; the angles were
chosen there (docs/methodology.md). It costs one more pass per angle. An ensemble gains little from it: averaging
many models already smooths what averaging rotations smooths (docs/benchmarks.md, section 14).
"""

from __future__ import annotations

import keras
import numpy as np
from scipy import ndimage

from core.analysis.evaluation import predict_probabilities

ROTATION_ANGLES = (-8.0, 8.0)  # degrees, anticlockwise positive; the digit as it is always counts too


def rotated(images: np.ndarray, angle: float) -> np.ndarray:
    """uint8 digits (N×28×28) turned `angle` degrees anticlockwise about their centre, black filling the corners."""
    turned = ndimage.rotate(images.astype(np.float32), angle, axes=(2, 1), reshape=False, order=1, cval=0.0)
    return np.clip(turned, 0, 255).round().astype(np.uint8)


def predict_with_rotations(
    model: keras.Model,
    images: np.ndarray,
    angles: tuple[float, ...] = ROTATION_ANGLES,
    as_they_are: np.ndarray | None = None,
) -> np.ndarray:
    """Class probabilities averaged over the images as they are and rotated by each of `angles`.

    `as_they_are`: the model's probabilities for the images unrotated, when the caller has them already.
    """
    readings = [predict_probabilities(model, images) if as_they_are is None else as_they_are]
    readings += [predict_probabilities(model, rotated(images, angle)) for angle in angles]
    return np.mean(readings, axis=0)
