"""One complete run: train, evaluate on the test set, fit a temperature on the validation split, save to the store."""

from __future__ import annotations

import platform
import threading
from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from core.analysis.calibration import temperature_scaling
from core.analysis.evaluation import Evaluation, evaluate, predict_probabilities
from core.checkpoints import discard_backup
from core.config import TrainConfig
from core.data import MnistData
from core.record import DataSummary, RunRecord, TemperatureScaling, TestMetrics
from core.runs import RunInfo, RunStore
from core.training import ProgressListener, TrainResult, train, training_split


@dataclass
class ExperimentResult:
    run: RunInfo
    training: TrainResult
    evaluation: Evaluation


def run_experiment(
    config: TrainConfig,
    data: MnistData,
    store: RunStore,
    listener: ProgressListener | None = None,
    cancel_event: threading.Event | None = None,
    backup_dir: Path | None = None,
) -> ExperimentResult | None:
    """Train, evaluate, calibrate and save; returns None (and saves nothing) when cancelled.

    With `backup_dir`, a run stopped part-way resumes from its last epoch there; saving the run removes it.
    """
    training = train(config, data, listener, cancel_event, backup_dir=backup_dir)
    if training.cancelled:
        return None
    evaluation = evaluate(training.model, data.x_test, data.y_test)
    calibration = fit_on_validation(training.model, config, data)
    run = store.save(training.model, make_record(config, data, training, evaluation, calibration), config.name)
    discard_backup(backup_dir)
    return ExperimentResult(run, training, evaluation)


def fit_on_validation(model: keras.Model, config: TrainConfig, data: MnistData) -> TemperatureScaling:
    """Temperature scaling fitted on the validation split the run held out (never on the test set)."""
    _, _, x_val, y_val = training_split(config, data)
    return temperature_scaling(predict_probabilities(model, x_val), y_val)


def make_record(
    config: TrainConfig,
    data: MnistData,
    training: TrainResult,
    evaluation: Evaluation,
    calibration: TemperatureScaling | None = None,
) -> RunRecord:
    """The contents of run.json (the store adds the run id and creation time)."""
    return RunRecord(
        config=config,
        seed=config.seed,
        data=DataSummary(**data.summary(), train_used=training.train_count, validation=training.validation_count),
        history=tuple(training.history),
        best_epoch=training.best_epoch,
        stopped_epoch=training.stopped_epoch,
        early_stopped=training.early_stopped,
        training_seconds=round(training.seconds, 3),
        training_precision=training.precision,
        test_metrics=TestMetrics.from_dict(evaluation.summary()),
        parameters=int(training.model.count_params()),
        versions=library_versions(),
        calibration=calibration,
    )


def library_versions() -> dict:
    """The versions a run records: TensorFlow, Keras and Python."""
    return {"tensorflow": tf.__version__, "keras": keras.__version__, "python": platform.python_version()}
