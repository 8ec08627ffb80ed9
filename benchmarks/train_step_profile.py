"""What a training step costs: images/s of fast_cnn variants and the Keras example convnet, side by side.

    MNIST_DIR=../shared/mnist .venv/bin/python -m benchmarks.train_step_profile

Every variant trains in the same process on the same in-memory tensor of training images, one compiled
step (`tf.function`: forward, backward, Adam) per batch, in turns (round robin), and keeps its best round:
on a shared machine the other work slows every variant alike, and the best round is the least disturbed.
Then fast_cnn through `model.fit` as `core.training.train` runs it (tf.data, per-batch callbacks). Prints the
table and replaces its section of docs/benchmarks.md. Measures, never asserts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from benchmarks.report_sections import REPORT, write_section
from benchmarks.run import cpu_description, load_description, table_header
from core.config import TrainConfig
from core.data import MnistData, load_mnist, normalize
from core.fused_batchnorm import FusedBatchNormalization
from core.models import build_model
from core.precision import training_precision
from core.training import DivergenceGuard, ProgressCallback, make_dataset

HEADING = "## 12. What a training step costs"
IMAGES = 6_144  # a multiple of every batch size below
ROUNDS = 4


def recipe(
    policy: str = "float32", arch: str = "fast_cnn", batchnorm: type = FusedBatchNormalization, **changes
) -> Callable[[], keras.Model]:
    """The architecture as train() builds it: the fused BatchNorm unless told otherwise."""
    config = TrainConfig.for_arch(arch).with_changes(**changes)
    return lambda: build_model(config, policy=policy, batchnorm=batchnorm)


def fast_cnn_variant(batchnorm: str = "after_pool", first_stride: bool = False) -> Callable[[], keras.Model]:
    """fast_cnn's blocks with BatchNorm moved before pooling or left out, or a stride-2 4×4 first convolution."""

    def build() -> keras.Model:
        model = keras.Sequential([keras.Input((28, 28)), layers.Reshape((28, 28, 1))])
        widths = (32, 64) if first_stride else (16, 32, 96)
        for index, width in enumerate(widths):
            strided = first_stride and index == 0
            model.add(layers.Conv2D(width, 4 if strided else 3, strides=2 if strided else 1, padding="same"))
            if batchnorm == "before_pool":
                model.add(FusedBatchNormalization())
                model.add(layers.ReLU())
                model.add(layers.MaxPooling2D(2))
                continue
            model.add(layers.MaxPooling2D(2))
            if batchnorm == "after_pool":
                model.add(FusedBatchNormalization())
            model.add(layers.ReLU())
        model.add(layers.Flatten())
        model.add(layers.Dense(10, activation="softmax"))
        return model

    return build


# name: (builder, batch size, jit_compile)
VARIANTS = {
    "cnn (Keras example), batch 128": (lambda: build_model(TrainConfig.for_arch("cnn")), 128, False),
    "fast_cnn recipe (Conv→Pool→BN→ReLU), batch 128": (recipe(), 128, False),
    "fast_cnn in bfloat16 (mixed precision), as the recipe trains on a CPU with bfloat16": (
        recipe("mixed_bfloat16"),
        128,
        False,
    ),
    "fast_cnn in bfloat16 with Keras' own BatchNormalization (not fused)": (
        recipe("mixed_bfloat16", batchnorm=layers.BatchNormalization),
        128,
        False,
    ),
    "fast_cnn with Keras' own BatchNormalization (not fused)": (
        recipe(batchnorm=layers.BatchNormalization),
        128,
        False,
    ),
    "fast_cnn in bfloat16, batch 256": (recipe("mixed_bfloat16"), 256, False),
    "fast_cnn, widths 16/32/64": (recipe(filters=(16, 32, 64)), 128, False),
    "fast_cnn, batch 256": (recipe(), 256, False),
    "fast_cnn, batch 512": (recipe(), 512, False),
    "fast_cnn, BatchNorm and ReLU before pooling": (fast_cnn_variant("before_pool"), 128, False),
    "fast_cnn without BatchNorm": (fast_cnn_variant("none"), 128, False),
    "fast_cnn with XLA (jit_compile)": (recipe(), 128, True),
    "stride-2 4×4 first convolution, widths 32/64": (fast_cnn_variant(first_stride=True), 128, False),
    "deep_cnn in bfloat16 (the accuracy recipe)": (recipe("mixed_bfloat16", arch="deep_cnn"), 128, False),
    "deep_cnn in bfloat16 with Keras' own BatchNormalization (not fused)": (
        recipe("mixed_bfloat16", arch="deep_cnn", batchnorm=layers.BatchNormalization),
        128,
        False,
    ),
}


def step_loop(builder, batch_size: int, jit: bool, x: tf.Tensor, y: tf.Tensor) -> Callable[[], None]:
    """One pass over x in batches: a compiled train step per batch (warmed up once)."""
    keras.utils.set_random_seed(0)
    model = builder()
    optimizer = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    optimizer.build(model.trainable_variables)

    @tf.function(jit_compile=jit)
    def step(images, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return loss

    def one_pass():
        for start in range(0, len(x), batch_size):
            loss = step(x[start : start + batch_size], y[start : start + batch_size])
        float(loss)

    one_pass()
    return one_pass


def keras_fit(data: MnistData, callbacks: bool) -> Callable[[], None]:
    """fast_cnn as train() runs it: model.fit over make_dataset, with or without its per-batch callbacks."""
    config = TrainConfig.for_arch("fast_cnn")
    images, labels = data.x_train[:IMAGES], data.y_train[:IMAGES]
    keras.utils.set_random_seed(0)
    policy = training_precision(config.precision)
    model = build_model(
        config, steps_per_epoch=IMAGES // config.batch_size, policy=policy, batchnorm=FusedBatchNormalization
    )
    dataset = make_dataset(images, labels, config)
    batches = IMAGES // config.batch_size

    def one_pass():
        extra = [DivergenceGuard(), ProgressCallback(1, batches)] if callbacks else []
        model.fit(dataset, epochs=1, verbose=0, callbacks=extra)

    one_pass()
    return one_pass


def run(data: MnistData) -> Iterator[str]:
    x = tf.constant(normalize(data.x_train[:IMAGES]))
    y = tf.constant(data.y_train[:IMAGES].astype(np.int32))
    passes = {name: step_loop(*variant, x, y) for name, variant in VARIANTS.items()}
    passes["fast_cnn recipe via model.fit (tf.data, in its training precision), no callbacks"] = keras_fit(
        data, callbacks=False
    )
    passes["fast_cnn recipe via model.fit as train() runs it (per-batch callbacks)"] = keras_fit(data, callbacks=True)
    yield f"{HEADING}\n"
    yield (
        f"{cpu_description()}, {os.cpu_count()} cores; {load_description()} at the start. Images/s of training "
        f"steps (forward, backward, Adam) over {IMAGES:,} images, best of {ROUNDS} rounds taken in turns in one "
        "process (`python -m benchmarks.train_step_profile`); ratios are to the float32 recipe's row.\n"
    )
    best = dict.fromkeys(passes, 0.0)
    for _ in range(ROUNDS):
        for name, one_pass in passes.items():
            started = time.perf_counter()
            one_pass()
            best[name] = max(best[name], IMAGES / (time.perf_counter() - started))
    reference = best["fast_cnn recipe (Conv→Pool→BN→ReLU), batch 128"]
    yield from table_header("variant", "images/s", "× the recipe")
    for name, rate in best.items():
        yield f"| {name} | {rate:,.0f} | {rate / reference:.2f} |"
    yield f"\n{load_description()} at the end.\n"


def main() -> int:
    lines = []
    for line in run(load_mnist()):
        print(line, flush=True)
        lines.append(line)
    write_section(REPORT, HEADING, lines)
    print(f"\nsection replaced in {REPORT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
