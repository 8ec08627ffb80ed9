"""Named Keras architectures, built with the Sequential API from a TrainConfig."""

from __future__ import annotations

from functools import partial

import keras
from keras import layers

from core.config import TrainConfig
from core.precision import with_dtype_policy
from core.weight_averaging import adam

INPUT_SHAPE = (28, 28)
NUM_CLASSES = 10
# The moving statistics are only a running estimate during training (Keras' default 0.99 lags a few hundred steps
# behind): training recomputes them from the training images before every validation (core/batchnorm.py).
BATCHNORM_MOMENTUM = 0.9


def build_model(
    config: TrainConfig, steps_per_epoch: int = 1, policy: str = "float32", batchnorm: type = layers.BatchNormalization
) -> keras.Sequential:
    """Build and compile the architecture named by `config.arch` (Adam, sparse cross-entropy).

    `policy` is the Keras dtype policy of its layers ("mixed_bfloat16" to train faster, core/precision.py);
    `batchnorm` the class of its BatchNorm layers (training passes the fused one, core/fused_batchnorm.py).
    """
    builders = {
        "mlp": build_mlp,
        "cnn": build_cnn,
        "fast_cnn": partial(build_fast_cnn, batchnorm=batchnorm),
        "deep_cnn": partial(build_deep_cnn, batchnorm=batchnorm),
        "draw_cnn": partial(build_deep_cnn, batchnorm=batchnorm),  # the same network; its training data differ
        "kernel_cnn": partial(build_kernel_cnn, batchnorm=batchnorm),
    }
    model = builders[config.arch](config)
    if policy != "float32":
        model = with_dtype_policy(model, policy)
    model.compile(
        optimizer=adam(learning_rate(config, steps_per_epoch), config.weight_averaging),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def learning_rate(config: TrainConfig, steps_per_epoch: int):
    """A constant rate; exponential: times the decay after each epoch; one cycle: linear warm-up to the peak over
    25 % of steps, cosine to 0. Each is a function of the optimizer's step, so a resumed run carries on where it was."""
    if config.schedule == "constant":
        return config.learning_rate
    if config.schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(
            initial_learning_rate=config.learning_rate,
            decay_steps=steps_per_epoch,
            decay_rate=config.learning_rate_decay,
            staircase=True,
        )
    total = max(2, config.epochs * steps_per_epoch)
    warmup = max(1, total // 4)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 10,
        decay_steps=total - warmup,
        warmup_target=config.learning_rate,
        warmup_steps=warmup,
        alpha=0.0,
    )


def build_mlp(config: TrainConfig) -> keras.Sequential:
    """The seed design: Flatten → Dense(128, relu) → Dropout(0.2) → Dense(10, softmax)."""
    model = keras.Sequential(name="mlp")
    model.add(keras.Input(shape=INPUT_SHAPE, name="image"))
    model.add(layers.Flatten(name="flatten"))
    activations = config.activations()
    for index, units in enumerate(config.hidden_units, start=1):
        model.add(
            layers.Dense(
                units, activation=activations[index - 1], kernel_regularizer=_l2(config), name=f"hidden_{index}"
            )
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
    activations = iter(config.activations())  # the convolutions', then the Dense layers'
    for index, width in enumerate(config.filters or (32, 64), start=1):
        model.add(
            layers.Conv2D(width, 3, activation=next(activations), kernel_regularizer=_l2(config), name=f"conv_{index}")
        )
        model.add(layers.MaxPooling2D(2, name=f"pool_{index}"))
    model.add(layers.Flatten(name="flatten"))
    for index, units in enumerate(config.hidden_units, start=1):
        model.add(
            layers.Dense(units, activation=next(activations), kernel_regularizer=_l2(config), name=f"hidden_{index}")
        )
    if config.dropout > 0:
        model.add(layers.Dropout(config.dropout, name="dropout"))
    model.add(layers.Dense(NUM_CLASSES, activation="softmax", name="output"))
    return model


def build_fast_cnn(config: TrainConfig, batchnorm: type = layers.BatchNormalization) -> keras.Sequential:
    """Speed recipe: per width, Conv3×3 → MaxPool → BatchNorm → ReLU; then one Dense softmax.

    Pooling before BatchNorm and ReLU gives the same function class (both are monotonic per
    channel for a positive scale) at a quarter of their cost (measured: BatchNorm and ReLU before
    pooling train at 0.7× the images/s). Another activation takes ReLU's place; for a non-monotonic
    one (gelu, swish) the order then matters a little. Widths are best multiples of 16 (one AVX-512
    register of floats): 16/24/48 trained at 0.7× the images/s of 16/32/64 here.
    """
    model = keras.Sequential(name="fast_cnn")
    model.add(keras.Input(shape=INPUT_SHAPE, name="image"))
    model.add(layers.Reshape((28, 28, 1), name="add_channel"))
    activations = config.activations()
    for index, width in enumerate(config.filters or (16, 32, 96), start=1):
        model.add(
            layers.Conv2D(
                width, 3, padding="same", use_bias=False, kernel_regularizer=_l2(config), name=f"conv_{index}"
            )
        )
        model.add(layers.MaxPooling2D(2, name=f"pool_{index}"))
        model.add(batchnorm(momentum=BATCHNORM_MOMENTUM, name=f"conv_{index}_bn"))
        model.add(_activation_layer(activations[index - 1], f"conv_{index}"))
    model.add(layers.Flatten(name="flatten"))
    if config.dropout > 0:
        model.add(layers.Dropout(config.dropout, name="dropout"))
    model.add(layers.Dense(NUM_CLASSES, activation="softmax", name="output"))
    return model


def build_deep_cnn(config: TrainConfig, batchnorm: type = layers.BatchNormalization) -> keras.Sequential:
    """Accuracy recipe (after the best-known single-CNN MNIST recipe): two blocks of
    Conv3 → Conv3 → strided Conv5 with BatchNorm and dropout, a Conv4 head, Dense softmax."""
    widths = config.filters or (32, 64, 128)
    conv_bn_act = partial(_conv_bn_act, batchnorm=batchnorm)
    model = keras.Sequential(name=config.arch)
    model.add(keras.Input(shape=INPUT_SHAPE, name="image"))
    model.add(layers.Reshape((28, 28, 1), name="add_channel"))
    activations = iter(config.activations())
    for block, width in enumerate(widths[:-1], start=1):
        conv_bn_act(model, config, width, 3, next(activations), name=f"conv_{block}a")
        conv_bn_act(model, config, width, 3, next(activations), name=f"conv_{block}b")
        conv_bn_act(model, config, width, 5, next(activations), name=f"conv_{block}c", strides=2, padding="same")
        if config.dropout > 0:
            model.add(layers.Dropout(config.dropout, name=f"dropout_{block}"))
    conv_bn_act(model, config, widths[-1], 4, next(activations), name="conv_head")
    model.add(layers.Flatten(name="flatten"))
    if config.dropout > 0:
        model.add(layers.Dropout(config.dropout, name="dropout_head"))
    model.add(layers.Dense(NUM_CLASSES, activation="softmax", name="output"))
    return model


def build_kernel_cnn(config: TrainConfig, batchnorm: type = layers.BatchNormalization) -> keras.Sequential:
    """Ensemble member (after An et al. 2020): valid convolutions of `config.kernel_size`, no pooling,
    each Conv → BatchNorm → ReLU; then Flatten, dropout if any, Dense softmax."""
    conv_bn_act = partial(_conv_bn_act, batchnorm=batchnorm)
    model = keras.Sequential(name="kernel_cnn")
    model.add(keras.Input(shape=INPUT_SHAPE, name="image"))
    model.add(layers.Reshape((28, 28, 1), name="add_channel"))
    activations = iter(config.activations())
    for index, width in enumerate(config.filters, start=1):
        conv_bn_act(model, config, width, config.kernel_size, next(activations), name=f"conv_{index}")
    model.add(layers.Flatten(name="flatten"))
    if config.dropout > 0:
        model.add(layers.Dropout(config.dropout, name="dropout"))
    model.add(layers.Dense(NUM_CLASSES, activation="softmax", name="output"))
    return model


def _conv_bn_act(
    model, config, width, size, activation, name, strides=1, padding="valid", batchnorm=layers.BatchNormalization
):
    """Convolution without bias, BatchNorm (fast-adapting statistics), the activation (ReLU by default)."""
    model.add(
        layers.Conv2D(
            width,
            size,
            strides=strides,
            padding=padding,
            use_bias=False,
            kernel_regularizer=_l2(config),
            name=name,
        )
    )
    model.add(batchnorm(momentum=BATCHNORM_MOMENTUM, name=f"{name}_bn"))
    model.add(_activation_layer(activation, name))


def _activation_layer(activation: str, prefix: str) -> layers.Layer:
    """ReLU as before (same layer and name, so saved models look the same), else an Activation layer."""
    if activation == "relu":
        return layers.ReLU(name=f"{prefix}_relu")
    return layers.Activation(activation, name=f"{prefix}_{activation}")


def _l2(config: TrainConfig):
    return keras.regularizers.L2(config.l2) if config.l2 > 0 else None
