"""MNIST models as people bring them from elsewhere, trained briefly on the offline sample and saved as .keras.

Each follows its own convention (input layout, pixel scale, logits or probabilities), which
`own_input` reproduces so that a test can call the model directly and compare with its adapted self.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers

from core.data import MnistData

EPOCHS = 2


@dataclass(frozen=True)
class UploadedModel:
    """A trained model saved as a .keras file, and the convention it was trained with."""

    name: str
    path: Path
    input_layout: tuple[int, ...]
    pixel_scale: float
    outputs_logits: bool
    first_layer: str  # the first Dense or Conv2D layer, which the Weights page shows

    def own_input(self, images: np.ndarray) -> np.ndarray:
        """uint8 images as this model was trained on them."""
        return (images.astype(np.float32) / 255 * self.pixel_scale).reshape(-1, *self.input_layout)

    def direct_outputs(self, images: np.ndarray) -> np.ndarray:
        """The saved model called directly, with its own convention (no adapter)."""
        model = keras.models.load_model(self.path, compile=False)
        return np.asarray(model.predict(self.own_input(images), batch_size=500, verbose=0))


def keras_io_convnet() -> keras.Model:
    """keras-io examples/vision/mnist_convnet.py, narrower: input (28, 28, 1), softmax."""
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(8, 3, activation="relu", name="conv_a"),
            layers.MaxPooling2D(2),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ],
        name="keras_io_convnet",
    )


def flat_mlp() -> keras.Model:
    """An MLP on flattened images: input (784,)."""
    return keras.Sequential(
        [
            keras.Input((784,)),
            layers.Dense(64, activation="relu", name="dense_a"),
            layers.Dense(10, activation="softmax"),
        ],
        name="flat_mlp",
    )


def channels_first_functional() -> keras.Model:
    """A functional convnet exported channels-first: input (1, 28, 28), permuted to channels-last inside."""
    image = keras.Input((1, 28, 28))
    x = layers.Permute((2, 3, 1))(image)
    x = layers.Conv2D(8, 3, activation="relu", name="conv_b")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    return keras.Model(image, layers.Dense(10, activation="softmax")(x), name="channels_first")


def branching_functional() -> keras.Model:
    """A functional model whose layers are no chain: two convolutions of the image, added."""
    image = keras.Input((28, 28, 1))
    narrow = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_c")(image)
    wide = layers.Conv2D(8, 5, padding="same", activation="relu", name="conv_wide")(image)
    x = layers.Flatten()(layers.MaxPooling2D(4)(layers.Add()([narrow, wide])))
    return keras.Model(image, layers.Dense(10, activation="softmax")(x), name="branching")


def quickstart_logits() -> keras.Model:
    """tensorflow.org's beginner quickstart: input (28, 28), last layer Dense(10) without softmax."""
    return keras.Sequential(
        [
            keras.Input((28, 28)),
            layers.Flatten(),
            layers.Dense(128, activation="relu", name="dense_b"),
            layers.Dropout(0.2),
            layers.Dense(10),
        ],
        name="quickstart",
    )


def raw_pixels() -> keras.Model:
    """A model trained on 0–255 pixels, as keras-io's image classifiers are (rescaling inside)."""
    return keras.Sequential(
        [
            keras.Input((28, 28)),
            layers.Rescaling(1 / 255),
            layers.Flatten(),
            layers.Dense(64, activation="relu", name="dense_c"),
            layers.Dense(10, activation="softmax"),
        ],
        name="raw_pixels",
    )


# name → (builder, input layout, pixel scale, outputs logits, first Dense or Conv2D layer)
CASES: dict[str, tuple[Callable[[], keras.Model], tuple[int, ...], float, bool, str]] = {
    "keras_io_convnet": (keras_io_convnet, (28, 28, 1), 1.0, False, "conv_a"),
    "flat_784": (flat_mlp, (784,), 1.0, False, "dense_a"),
    "channels_first": (channels_first_functional, (1, 28, 28), 1.0, False, "conv_b"),
    "branching": (branching_functional, (28, 28, 1), 1.0, False, "conv_c"),
    "quickstart_logits": (quickstart_logits, (28, 28), 1.0, True, "dense_b"),
    "pixels_0_255": (raw_pixels, (28, 28), 255.0, False, "dense_c"),
}


def saved_model(name: str, folder: Path) -> UploadedModel:
    """The named model as train_and_save saves it in `folder` (the file may not be there yet)."""
    _, layout, scale, logits, first_layer = CASES[name]
    return UploadedModel(name, folder / f"{name}.keras", layout, scale, logits, first_layer)


def train_and_save(name: str, data: MnistData, folder: Path) -> UploadedModel:
    """Train the named model briefly on `data` with its own convention and save it as `<name>.keras`."""
    keras.utils.set_random_seed(0)
    uploaded = saved_model(name, folder)
    model = CASES[name][0]()
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=uploaded.outputs_logits),
        metrics=["accuracy"],
    )
    model.fit(uploaded.own_input(data.x_train), data.y_train, epochs=EPOCHS, batch_size=64, verbose=0)
    model.save(uploaded.path)
    return uploaded
