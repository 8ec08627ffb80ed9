"""Training and inference speed: time-to-99 %, throughput, single-image latency, batch evaluation."""

from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from core.analysis.evaluation import evaluate
from core.analysis.inspection import compiled_forward, predict_digit
from core.config import TrainConfig
from core.data import MnistData, normalize
from core.litert_forward import convert_to_litert
from core.preprocessing import digit_from_canvas
from core.training import train

TARGET_ACCURACY = 0.99


class TestAccuracyProbe(keras.callbacks.Callback):
    """Measures test accuracy after each epoch, keeping that time out of the training clock."""

    def __init__(self, data: MnistData):
        super().__init__()
        self.x_test, self.y_test = normalize(data.x_test), data.y_test
        self.rows: list[tuple[int, float, float]] = []  # (epoch, training seconds so far, accuracy)
        self._training_seconds = 0.0
        self._started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self._training_seconds += time.perf_counter() - self._started  # includes validation pass
        probabilities = self.model.predict(self.x_test, batch_size=2000, verbose=0)
        accuracy = float(np.mean(probabilities.argmax(axis=1) == self.y_test))
        self.rows.append((epoch + 1, self._training_seconds, accuracy))

    def time_to(self, target: float) -> tuple[int, float] | None:
        return next(((epoch, seconds) for epoch, seconds, acc in self.rows if acc >= target), None)


def time_to_99(data: MnistData, config: TrainConfig) -> dict:
    """Train `config` while probing test accuracy each epoch; report when it first reaches 99 %."""
    probe = TestAccuracyProbe(data)
    result = train(config, data, extra_callbacks=[probe])
    reached = probe.time_to(TARGET_ACCURACY)
    return {
        "arch": config.arch,
        "precision": result.precision,
        "epochs": result.stopped_epoch,
        "training_seconds": result.seconds,
        "images_per_second": result.train_count * len(probe.rows) / probe.rows[-1][1],
        "final_accuracy": probe.rows[-1][2],
        "epoch_to_99": reached[0] if reached else None,
        "seconds_to_99": reached[1] if reached else None,
    }


def training_throughput(data: MnistData, arch: str, images: int = 12000) -> float:
    """Images per second over one epoch on `images` training images (after a warm-up epoch)."""
    config = TrainConfig.for_arch(arch, epochs=2, train_limit=images, patience=5)
    result = train(config, data)
    return result.train_count / result.history[-1]["seconds"]


def single_image_latency(model: keras.Model, canvas: np.ndarray, repeats: int = 200) -> dict:
    """p50/p95 milliseconds of canvas preprocessing + the model: the Draw page's pass (`predict_digit`, LiteRT),
    TensorFlow's XLA-compiled pass it falls back to, an eager `model(x)`, and `model.predict`."""
    xla = compiled_forward(model)
    paths = {
        "predict_digit": lambda digit: predict_digit(model, digit),
        "xla": lambda digit: np.asarray(xla(tf.constant(digit[None]))),
        "eager": lambda digit: np.asarray(model(digit[None], training=False)),
        "predict": lambda digit: model.predict(digit[None], verbose=0),
    }
    figures = {}
    for name, path in paths.items():
        for _ in range(10):  # warm-up (and the one conversion or trace of the compiled passes)
            path(digit_from_canvas(canvas))
        seconds = []
        for _ in range(repeats if name != "predict" else max(20, repeats // 5)):
            started = time.perf_counter()
            path(digit_from_canvas(canvas))
            seconds.append(time.perf_counter() - started)
        figures[f"{name}_p50_ms"] = float(np.percentile(seconds, 50) * 1000)
        figures[f"{name}_p95_ms"] = float(np.percentile(seconds, 95) * 1000)
    return figures


def litert_conversion_seconds(model: keras.Model) -> float:
    """Seconds to convert the model to its LiteRT program (once per model, in the background as a page opens)."""
    started = time.perf_counter()
    convert_to_litert(model)
    return time.perf_counter() - started


def batch_evaluation_seconds(model: keras.Model, data: MnistData) -> float:
    evaluate(model, data.x_test[:100], data.y_test[:100])  # warm-up
    started = time.perf_counter()
    evaluate(model, data.x_test, data.y_test)
    return time.perf_counter() - started


def canvas_with_a_digit(data: MnistData) -> np.ndarray:
    """A 280×280 RGBA canvas image of a real test digit scaled ×10, as the Draw page receives it."""
    big = np.kron(data.x_test[0], np.ones((10, 10), dtype=np.uint8))
    return np.dstack([big, big, big, np.where(big > 0, 255, 0).astype(np.uint8)])
