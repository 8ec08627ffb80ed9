"""Named Keras architectures, built with the Sequential API from a TrainConfig."""

from __future__ import annotations

import keras
from keras import layers

from core.config import TrainConfig

INPUT_SHAPE = (28, 28)
NUM_CLASSES = 10


def build_model(config: TrainConfig) -> keras.Sequential:
    """Build and compile the architecture named by `config.arch`."""
    builders = {"mlp": build_mlp, "cnn": build_cnn}
    model = builders[config.arch](config)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def build_mlp(config: TrainConfig) -> keras.Sequential:
    """The seed design: Flatten → Dense(128, relu) → Dropout(0.2) → Dense(10, softmax)."""
    model = keras.Sequential(name="mlp")
    model.add(keras.Input(shape=INPUT_SHAPE, name="image"))
    model.add(layers.Flatten(name="flatten"))
    for index, units in enumerate(config.hidden_units, start=1):
        model.add(
            layers.Dense(units, activation="relu", kernel_regularizer=_l2(config), name=f"hidden_{index}")
        )
        if config.dropout > 0:
            model.add(layers.Dropout(config.dropout, name=f"dropout_{index}"))
    model.add(layers.Dense(NUM_CLASSES, activation="softmax", name="output"))
    return model


def build_cnn(config: TrainConfig) -> keras.Sequential:
    """The Keras example convnet: Conv32-Pool-Conv64-Pool-Flatten-Dropout-Dense10."""
    model = keras.Sequential(name="cnn")
    model.add(keras.Input(shape=INPUT_SHAPE, name="image"))
    model.add(layers.Reshape((28, 28, 1), name="add_channel"))
    model.add(layers.Conv2D(32, 3, activation="relu", kernel_regularizer=_l2(config), name="conv_1"))
    model.add(layers.MaxPooling2D(2, name="pool_1"))
    model.add(layers.Conv2D(64, 3, activation="relu", kernel_regularizer=_l2(config), name="conv_2"))
    model.add(layers.MaxPooling2D(2, name="pool_2"))
    model.add(layers.Flatten(name="flatten"))
    for index, units in enumerate(config.hidden_units, start=1):
        model.add(
            layers.Dense(units, activation="relu", kernel_regularizer=_l2(config), name=f"hidden_{index}")
        )
    if config.dropout > 0:
        model.add(layers.Dropout(config.dropout, name="dropout"))
    model.add(layers.Dense(NUM_CLASSES, activation="softmax", name="output"))
    return model


def _l2(config: TrainConfig):
    return keras.regularizers.L2(config.l2) if config.l2 > 0 else None
