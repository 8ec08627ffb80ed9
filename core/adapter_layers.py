"""The layers an adapted model is saved with: registered with Keras, so a kept upload reloads in safe mode.

Keras' safe mode refuses Lambda layers (they hold pickled code), so the adapter's two steps are
small classes of their own, registered as `digit_lab>InputAdapter` and `digit_lab>LogitsToProbabilities`.
They are imported by `core.runs` before any model is loaded.
"""

from __future__ import annotations

import keras

PACKAGE = "digit_lab"


@keras.saving.register_keras_serializable(package=PACKAGE)
class InputAdapter(keras.layers.Layer):
    """28×28 images in [0, 1] → the layout and pixel scale a model from elsewhere was trained on."""

    def __init__(self, target_shape: tuple[int, ...] = (28, 28), pixel_scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(size) for size in target_shape)
        self.pixel_scale = float(pixel_scale)

    def call(self, images):
        scaled = images * self.pixel_scale if self.pixel_scale != 1.0 else images
        return keras.ops.reshape(scaled, (-1, *self.target_shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.target_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": list(self.target_shape), "pixel_scale": self.pixel_scale}


@keras.saving.register_keras_serializable(package=PACKAGE)
class LogitsToProbabilities(keras.layers.Layer):
    """Softmax over the classes, for a model whose last layer returns logits."""

    def call(self, logits):
        return keras.ops.softmax(logits, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape
