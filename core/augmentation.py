"""Optional training-time augmentation: small rotations, shifts and zooms."""

from __future__ import annotations

import keras
import tensorflow as tf

MAX_ROTATION_DEGREES = 10
MAX_SHIFT_FRACTION = 0.1
MAX_ZOOM_FRACTION = 0.1


def make_augmenter(seed: int) -> keras.Sequential:
    """Random small rotation, shift and zoom of (batch, 28, 28, 1) images, filling with black."""
    return keras.Sequential(
        [
            keras.layers.RandomRotation(MAX_ROTATION_DEGREES / 360, fill_mode="constant", seed=seed),
            keras.layers.RandomTranslation(MAX_SHIFT_FRACTION, MAX_SHIFT_FRACTION, fill_mode="constant", seed=seed + 1),
            keras.layers.RandomZoom(MAX_ZOOM_FRACTION, fill_mode="constant", seed=seed + 2),
        ],
        name="augmentation",
    )


def augment_batch(augmenter: keras.Sequential):
    """A tf.data map function applying `augmenter` to a batch of (images, labels)."""

    def apply(images, labels):
        with_channel = tf.expand_dims(images, -1)
        augmented = augmenter(with_channel, training=True)
        return tf.squeeze(augmented, -1), labels

    return apply
