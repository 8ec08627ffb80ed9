"""Hyperparameter search with Optuna, scored on the validation split only; one process is one worker.

Any number of workers, on one machine or many, join the same study by name in the same storage
(core/study_storage.py: a journal file, or PostgreSQL) and share the run store. This is Optuna's own
distributed mode: each worker asks the storage for its next trial, so they never run the same one.

- Budget: a worker starts a trial only while the study has fewer than `trials` trials finished or
  running, so k workers together run about `trials` (at most k - 1 more, when they start at once).
- A killed worker: its trial's heartbeat stops, the next worker to start a trial marks it failed and
  Optuna queues a retry with the same parameters (core/study_storage.py). A worker leaves only when the
  budget is met and no trial is running or waiting, so the last workers standing run the retries.
- Exactly one run per completed trial: a run is saved only once its trial has trained and was not
  pruned, tagged with the study and the number of the trial it descends from (a retry keeps its
  original's number), and the store refuses a second run with the same tags (RunStore.save_once).
  A retry whose original saved its run before dying adopts that run instead of training again.
- Pruning: hopeless trials stop after an epoch whose validation accuracy is below the median of the
  other trials' at that epoch (Optuna's MedianPruner, after 5 finished trials); pruned trials save nothing.

Three samplers: TPE (Bayesian, the default; with a constant liar so parallel workers spread out),
random, and a grid over a small declared space (grid_space) in which every other setting keeps its
architecture's default. Every trial records its worker (host:pid) and run id as user attributes: the
Studies page shows them. The test set plays no part in choosing.
"""

from __future__ import annotations

import math
import os
import socket
import time
import warnings
import zlib
from dataclasses import dataclass, field

import keras
import optuna
from optuna.storages import BaseStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import FrozenTrial, TrialState

from core.analysis.evaluation import evaluate
from core.config import ARCHITECTURE_DEFAULTS, KERNEL_CNN_FILTERS, TrainConfig
from core.data import MnistData
from core.errors import ConfigError, TrainingDivergedError
from core.experiment import fit_on_validation, make_record
from core.runs import RunInfo, RunStore
from core.training import train

WORKER_ATTR = "worker"
RUN_ATTR = "run_id"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
WIDTH_SCALES = (0.5, 1.0, 2.0)  # convnets: every convolution's filters times this
MIN_FILTERS = 4
SAMPLERS = ("tpe", "random", "grid")
# The activations the TPE and random samplers try (the rest of ACTIVATIONS is for hand-made runs).
SEARCHED_ACTIVATIONS = ["relu", "tanh", "gelu", "elu"]
# The grid beside the architectures: small on purpose, since every point is a full training run.
GRID = {"activation": ["relu", "tanh"], "learning_rate": [1e-3, 3e-3]}


@dataclass(frozen=True)
class StudyResult:
    """The study after this worker stopped, and the trials this worker ran (by number)."""

    study: optuna.Study
    ran: tuple[int, ...] = field(default_factory=tuple)

    def best_run(self, store: RunStore) -> RunInfo | None:
        """The run of the study's best trial (whichever worker ran it), if a trial completed."""
        try:
            best = self.study.best_trial
        except ValueError:  # no completed trial
            return None
        run_id = best.user_attrs.get(RUN_ATTR)
        return store.get(run_id) if run_id else None


def grid_space(archs: list[str]) -> dict[str, list]:
    """The grid sampler's declared space: every combination is one trial."""
    return {"arch": list(archs), **GRID}


def grid_size(space: dict[str, list]) -> int:
    return math.prod(len(values) for values in space.values())


def describe_grid(space: dict[str, list]) -> str:
    """The grid as printed before a grid search starts."""
    axes = " × ".join(f"{name} {{{', '.join(_shown(value) for value in values)}}}" for name, values in space.items())
    return f"grid of {grid_size(space)} points: {axes}; every other setting is the architecture's default"


def _shown(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def make_sampler(name: str, archs: list[str], seed: int) -> optuna.samplers.BaseSampler:
    """TPE (Bayesian), random, or the grid over grid_space(archs); all seeded."""
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        return optuna.samplers.GridSampler(grid_space(archs), seed=seed)
    raise ConfigError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")


def suggest_config(
    trial: optuna.Trial,
    *,
    archs: list[str],
    epochs: int,
    train_limit: int | None,
    grid: dict[str, list] | None = None,
) -> TrainConfig:
    """The search space: architecture, activation, widths (and kernel_cnn's kernel size), learning rate and
    schedule, batch size, dropout, L2, augmentation.

    With `grid`, only its settings are suggested (from its values); the rest are the architecture's defaults.
    """
    common = {"epochs": epochs, "train_limit": train_limit}
    if grid is not None:
        chosen = {name: trial.suggest_categorical(name, values) for name, values in grid.items()}
        arch = chosen.pop("arch")
        if "activation" in chosen:
            chosen["activation"] = (chosen["activation"],)
        return TrainConfig.for_arch(arch, **chosen, **common)
    arch = trial.suggest_categorical("arch", archs)
    overrides = {
        "activation": (trial.suggest_categorical("activation", SEARCHED_ACTIVATIONS),),
        "learning_rate": trial.suggest_float("learning_rate", 3e-4, 1e-2, log=True),
        "schedule": trial.suggest_categorical("schedule", ["constant", "one_cycle"]),
        "batch_size": trial.suggest_categorical("batch_size", [64, 128, 256]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "l2": trial.suggest_categorical("l2", [0.0, 1e-5, 1e-4]),
        "augment": trial.suggest_categorical("augment", [False, True]),
        **common,
    }
    if arch == "mlp":
        overrides["hidden_units"] = (trial.suggest_categorical("hidden", [64, 128, 256, 512]),)
    else:
        scale = trial.suggest_categorical("width_scale", list(WIDTH_SCALES))
        base = ARCHITECTURE_DEFAULTS[arch]["filters"]
        if arch == "kernel_cnn":
            overrides["kernel_size"] = trial.suggest_categorical("kernel_size", sorted(KERNEL_CNN_FILTERS))
            base = KERNEL_CNN_FILTERS[overrides["kernel_size"]]
        overrides["filters"] = tuple(max(MIN_FILTERS, round(width * scale)) for width in base)
    return TrainConfig.for_arch(arch, **overrides)


def lineage(trial: optuna.Trial | FrozenTrial) -> int:
    """The number of the trial this one descends from: itself, or the first trial a retry stands for."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        original = RetryHeartbeatStaleTrialCallback.retried_trial_number(_frozen(trial))
    return trial.number if original is None else original


def _frozen(trial: optuna.Trial | FrozenTrial) -> FrozenTrial:
    if isinstance(trial, FrozenTrial):
        return trial
    return trial.storage.get_trial(trial._trial_id)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class PruningCallback(keras.callbacks.Callback):
    """Reports each epoch's validation accuracy to the trial; stops training when the pruner says so."""

    def __init__(self, trial: optuna.Trial):
        super().__init__()
        self.trial = trial
        self.pruned_at: int | None = None

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or "val_accuracy" not in logs:
            return
        self.trial.report(float(logs["val_accuracy"]), step=epoch + 1)
        if self.trial.should_prune():
            self.pruned_at = epoch + 1
            self.model.stop_training = True


def study_progress(trials: list[FrozenTrial]) -> tuple[int, int, int]:
    """(finished, running, waiting): finished trials completed, were pruned, or failed without a retry."""
    retried = {number for trial in trials for number in trial.system_attrs.get("retry_history", ())}
    finished = sum(
        trial.state in FINISHED or (trial.state == TrialState.FAIL and trial.number not in retried) for trial in trials
    )
    running = sum(trial.state == TrialState.RUNNING for trial in trials)
    waiting = sum(trial.state == TrialState.WAITING for trial in trials)
    return finished, running, waiting


def run_study(
    data: MnistData,
    store: RunStore,
    *,
    study_name: str,
    trials: int,
    minutes: float,
    archs: list[str],
    epochs: int,
    train_limit: int | None = None,
    seed: int = 0,
    storage: BaseStorage | None = None,
    pruning: bool = True,
    poll_seconds: float | None = None,
    sampler: str = "tpe",
) -> StudyResult:
    """Join (or create) the study and run trials until it has `trials` finished; start none after `minutes`.

    Without a storage the study lives in memory (one process). `poll_seconds` is how often a worker
    with nothing to start looks again for a retry (default: the storage's heartbeat interval).
    """
    worker = worker_name()
    ran: list[int] = []
    grid = grid_space(archs) if sampler == "grid" else None
    if grid is not None:  # a grid search ends once every point has been tried
        trials = min(trials, grid_size(grid))

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr(WORKER_ATTR, worker)
        ran.append(trial.number)
        key = {"study": study_name, "trial": lineage(trial)}
        config = suggest_config(trial, archs=archs, epochs=epochs, train_limit=train_limit, grid=grid).with_changes(
            seed=seed, name=f"{study_name}-trial-{key['trial']}", tags=key
        )
        adopted = store.find_tagged(key)  # the original trial saved its run, then its worker died
        if adopted is not None:
            return _finish(trial, adopted)
        pruning_callback = PruningCallback(trial) if pruning else None
        training = train(config, data, extra_callbacks=[pruning_callback] if pruning_callback else None)
        if pruning_callback is not None and pruning_callback.pruned_at is not None:
            raise optuna.TrialPruned(f"validation accuracy below the median at epoch {pruning_callback.pruned_at}")
        evaluation = evaluate(training.model, data.x_test, data.y_test)
        calibration = fit_on_validation(training.model, config, data)
        record = make_record(config, data, training, evaluation, calibration)
        run, _ = store.save_once(training.model, record, config.name, key)
        return _finish(trial, run)

    # A failed trial's error reaches our caller; Optuna's own log lines would repeat it with a traceback.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    sampler_seed = zlib.crc32(f"{seed}:{worker}".encode())  # workers draw different points
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        load_if_exists=True,
        direction="maximize",
        sampler=make_sampler(sampler, archs, sampler_seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5) if pruning else optuna.pruners.NopPruner(),
    )
    heartbeat = getattr(storage, "get_heartbeat_interval", lambda: None)()
    poll = poll_seconds or heartbeat or 1.0
    deadline = time.monotonic() + minutes * 60
    while time.monotonic() < deadline:
        _fail_stale_trials(study)
        finished, running, waiting = study_progress(study.get_trials(deepcopy=False))
        if waiting or finished + running < trials:
            try:
                # A diverged trial saves nothing and counts as failed; the search goes on.
                study.optimize(objective, n_trials=1, catch=(TrainingDivergedError,))
            except (ValueError, optuna.exceptions.UpdateFinishedTrialError):
                if not (ran and _given_up_on(study, ran[-1])):
                    raise
                # This worker went silent for longer than the grace period (a stall, a suspended VM): its trial
                # was failed and retried elsewhere, and the store keeps one run for it whichever finishes first.
        elif running:
            time.sleep(poll)  # other workers' trials: wait for them, or for their retries
        else:
            break
    return StudyResult(study, tuple(ran))


def _given_up_on(study: optuna.Study, number: int) -> bool:
    """Whether trial `number` was failed as stale by another worker (and so retried)."""
    trials = study.get_trials(deepcopy=False)
    retried = {n for trial in trials for n in trial.system_attrs.get("retry_history", ())}
    return number in retried


def _finish(trial: optuna.Trial, run: RunInfo) -> float:
    trial.set_user_attr(RUN_ATTR, run.run_id)
    return float(run.record.validation_accuracy)


def _fail_stale_trials(study: optuna.Study) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
