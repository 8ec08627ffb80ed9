"""Training: a seeded, cancellable fit with early stopping and one progress interface."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from core.augmentation import augment_batch, elastic_batch, make_augmenter, render_batch
from core.batchnorm import BatchNormRecalibration
from core.checkpoints import backup_callbacks
from core.config import HANDWRITING_AUGMENTED, TrainConfig
from core.data import MnistData, normalize, split_validation
from core.errors import TrainingDivergedError
from core.fused_batchnorm import FusedBatchNormalization
from core.models import build_model
from core.precision import training_precision
from core.weight_averaging import AveragedWeightsForValidation

# Building a model touches Keras' global state; trainings in several threads take turns.
_BUILD_LOCK = threading.Lock()
# A fresh classifier's loss is about ln 10 = 2.3 (plus any L2 penalty). Sane runs stay within a few
# times that (Keras' running mean over the epoch: the MLP at 50x its default learning rate peaks near
# 7); 40x the first batch's means the weights blew up: at learning rate 50 the MLP's loss passes 1e6
# yet stays finite, so a check for inf/NaN alone would let that run be saved.
DIVERGENCE_FACTOR = 40.0


@dataclass(frozen=True)
class ProgressEvent:
    """One step of training: kind is "begin", "batch", "epoch" or "end"."""

    kind: str
    epoch: int  # 1-based epoch this event belongs to
    epochs: int
    batch: int = 0  # 1-based batch within the epoch
    batches: int = 0
    metrics: dict = field(default_factory=dict)

    @property
    def fraction_done(self) -> float:
        if self.kind == "end":
            return 1.0
        if not self.epochs or not self.batches:
            return 0.0
        return min(1.0, ((self.epoch - 1) + self.batch / self.batches) / self.epochs)


ProgressListener = Callable[[ProgressEvent], None]


class ProgressCallback(keras.callbacks.Callback):
    """Reports batch and epoch events to a listener, records the history, and obeys a cancel flag."""

    def __init__(
        self,
        epochs: int,
        batches: int,
        listener: ProgressListener | None = None,
        cancel_event: threading.Event | None = None,
    ):
        super().__init__()
        self.epochs = epochs
        self.batches = batches
        self.listener = listener or (lambda event: None)
        self.cancel_event = cancel_event or threading.Event()
        self.history: list[dict] = []
        self.cancelled = False
        self._epoch = 0
        self._epoch_started = 0.0

    def on_train_begin(self, logs=None):
        self.listener(ProgressEvent("begin", 1, self.epochs, 0, self.batches))
        self._stop_if_cancelled()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1
        self._epoch_started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        event = ProgressEvent("batch", self._epoch, self.epochs, batch + 1, self.batches, _floats(logs))
        self.listener(event)
        self._stop_if_cancelled()

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, **_floats(logs)}
        row["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row["seconds"] = time.perf_counter() - self._epoch_started
        self.history.append(row)
        self.listener(ProgressEvent("epoch", epoch + 1, self.epochs, self.batches, self.batches, row))
        self._stop_if_cancelled()

    def on_train_end(self, logs=None):
        last = self.history[-1] if self.history else {}
        self.listener(ProgressEvent("end", self._epoch, self.epochs, self.batches, self.batches, last))

    def _stop_if_cancelled(self):
        if self.cancel_event.is_set():
            self.cancelled = True
            self.model.stop_training = True


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training at the first batch whose loss is not finite or has exploded (see DIVERGENCE_FACTOR).

    It only records where; train() raises TrainingDivergedError, so a diverged model is never saved.
    """

    def __init__(self):
        super().__init__()
        self.diverged: TrainingDivergedError | None = None
        self._epoch = 0
        self.limit: float | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        if self.diverged is not None or "loss" not in (logs or {}):
            return
        loss = float(logs["loss"])
        if self.limit is None:  # the first batch's loss is the fresh model's (computed before any update)
            self.limit = DIVERGENCE_FACTOR * loss if math.isfinite(loss) else 0.0
        if not (math.isfinite(loss) and loss <= self.limit):
            self.diverged = TrainingDivergedError(self._epoch, batch + 1, loss)
            self.model.stop_training = True


@dataclass
class TrainResult:
    """A trained model and how its training went."""

    model: keras.Model
    history: list[dict]
    seconds: float
    best_epoch: int  # 1-based epoch whose weights were kept (best by config.early_stopping_monitor)
    stopped_epoch: int  # last epoch that ran
    early_stopped: bool
    cancelled: bool
    validation_count: int
    train_count: int
    precision: str = "float32"  # the dtype policy it trained in; the model is float32 whatever it was


def train(
    config: TrainConfig,
    data: MnistData,
    listener: ProgressListener | None = None,
    cancel_event: threading.Event | None = None,
    extra_callbacks: list[keras.callbacks.Callback] | None = None,
    backup_dir: Path | None = None,
) -> TrainResult:
    """Fit `config`'s model on the training split of `data`, validating on a carved-out split.

    With `backup_dir`, the state after every epoch is kept there and a run stopped part-way carries on from it
    when called again with the same arguments (core/checkpoints.py); the caller removes it once the run is saved.
    Raises TrainingDivergedError as soon as the loss blows up (nothing to save or evaluate).
    """
    config.validated()
    x_train, y_train, x_val, y_val = training_split(config, data)
    batches = int(np.ceil(len(x_train) / config.batch_size))
    policy = training_precision(config.precision)
    with _BUILD_LOCK:
        keras.utils.set_random_seed(config.seed)
        model = build_model(config, steps_per_epoch=batches, policy=policy, batchnorm=FusedBatchNormalization)
    create_training_variables(model, x_train[:1], y_train[:1])
    train_batches = make_dataset(x_train, y_train, config)
    progress = ProgressCallback(config.epochs, batches, listener, cancel_event)
    guard = DivergenceGuard()
    early_stopping = keras.callbacks.EarlyStopping(
        monitor=config.early_stopping_monitor,
        mode="max" if config.early_stopping_monitor == "val_accuracy" else "min",
        patience=config.patience,
        restore_best_weights=True,
    )
    callbacks = [guard, BatchNormRecalibration(x_train), progress, early_stopping]
    if config.weight_averaging:
        callbacks.append(AveragedWeightsForValidation(x_train))  # after early stopping, before the backups
    callbacks += extra_callbacks or []
    backup = None
    if backup_dir is not None:
        resumable, backup = backup_callbacks(backup_dir, progress, early_stopping, guard)
        callbacks += resumable
    started = time.perf_counter()
    model.fit(
        train_batches,
        epochs=config.epochs,
        validation_data=(normalize(x_val), y_val.astype(np.int32)),
        validation_batch_size=1000,
        shuffle=False,  # the dataset shuffles itself
        # Recalibration runs before each validation, hence before early stopping sees the score.
        callbacks=callbacks,
        verbose=0,
    )
    seconds = backup.seconds() if backup is not None else time.perf_counter() - started
    if guard.diverged is not None:
        raise guard.diverged
    best_epoch = best_epoch_of(progress.history, config.early_stopping_monitor)
    stopped_epoch = len(progress.history)
    return TrainResult(
        model=float32_copy(model, config, batches),
        precision=policy,
        history=progress.history,
        seconds=seconds,
        best_epoch=best_epoch,
        stopped_epoch=stopped_epoch,
        early_stopped=not progress.cancelled and stopped_epoch < config.epochs,
        cancelled=progress.cancelled,
        validation_count=len(y_val),
        train_count=len(y_train),
    )


def create_training_variables(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> None:
    """Create the optimizer's and the metrics' variables before `fit`, from one image (uint8) and its label.

    Keras creates them lazily, inside the first trace of the training step; a tf.function that creates
    variables is traced twice, so the first step paid for two traces: 0.8 s of fast_cnn's 8 s epoch.
    """
    inputs, targets = normalize(images), labels.astype(np.int32)
    model.optimizer.build(model.trainable_variables)
    model.compute_metrics(inputs, targets, model(inputs, training=False))
    model.reset_metrics()


def float32_copy(model: keras.Sequential, config: TrainConfig, steps_per_epoch: int) -> keras.Sequential:
    """The same network with `model`'s weights, in float32 and Keras' own layers, as every reader and saved file has it.

    A mixed-precision model's weights are float32 already; the fused BatchNorm keeps Keras' variables.
    """
    with _BUILD_LOCK:
        copy = build_model(config, steps_per_epoch=steps_per_epoch)
    copy.set_weights(model.get_weights())
    return copy


def best_epoch_of(history: list[dict], monitor: str = "val_loss") -> int:
    """The 1-based epoch early stopping keeps: the first with the lowest loss or highest accuracy (0: none)."""
    scores = [row[monitor] for row in history if monitor in row]
    if not scores:
        return 0
    return int(np.argmax(scores) if monitor == "val_accuracy" else np.argmin(scores)) + 1


def training_split(config: TrainConfig, data: MnistData) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The run's (x_train, y_train, x_val, y_val): its first `train_limit` training images, split by its seed.

    Deterministic, so the validation images a saved run held out can be found again from its
    configuration (core.analysis.calibration fits a temperature on them).
    """
    x_all, y_all = data.x_train, data.y_train
    if config.train_limit:
        x_all, y_all = x_all[: config.train_limit], y_all[: config.train_limit]
    return split_validation(x_all, y_all, config.validation_fraction, config.seed)


def make_dataset(images: np.ndarray, labels: np.ndarray, config: TrainConfig) -> tf.data.Dataset:
    """Shuffled, batched training data held in memory; augmented per batch when asked."""
    dataset = tf.data.Dataset.from_tensor_slices((normalize(images), labels.astype(np.int32)))
    dataset = dataset.shuffle(len(images), seed=config.seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(config.batch_size)
    if config.arch in HANDWRITING_AUGMENTED:  # renderings first: they imitate the app's 28×28 input, then moved
        dataset = dataset.map(render_batch(config.seed), num_parallel_calls=1)
    if config.elastic:
        dataset = dataset.map(elastic_batch(config.seed), num_parallel_calls=1)
    if config.augment:
        augmenter = make_augmenter(config.seed, config.augment_rotation, config.augment_shift)
        dataset = dataset.map(augment_batch(augmenter), num_parallel_calls=1)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _floats(logs) -> dict:
    return {key: float(value) for key, value in (logs or {}).items()}
