"""Hyperparameter search with Optuna, scored on the validation split only.

Three samplers: TPE (Bayesian, the default), random, and a grid over a small declared space
(grid_space) in which every other setting keeps its architecture's default. Every trial is saved
as a run tagged with its study, so the dashboard can filter and load the trials; the test set
plays no part in choosing (callers may report the best trial's test score).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import optuna

from core.config import TrainConfig
from core.data import MnistData
from core.errors import ConfigError, TrainingDivergedError
from core.experiment import ExperimentResult, run_experiment
from core.runs import RunStore


@dataclass(frozen=True)
class StudyResult:
    """A finished study and the experiment of each completed trial, by trial number."""

    study: optuna.Study
    experiments: dict[int, ExperimentResult]

    @property
    def best(self) -> ExperimentResult:
        """The experiment of the trial with the best validation accuracy."""
        return self.experiments[self.study.best_trial.number]


SAMPLERS = ("tpe", "random", "grid")
# The activations the TPE and random samplers try (the rest of ACTIVATIONS is for hand-made runs).
SEARCHED_ACTIVATIONS = ["relu", "tanh", "gelu", "elu"]
# The grid beside the architectures: small on purpose, since every point is a full training run.
GRID = {"activation": ["relu", "tanh"], "learning_rate": [1e-3, 3e-3]}


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
        return optuna.samplers.TPESampler(seed=seed)
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
    """The search space: architecture, activation, learning rate, batch size, dropout, L2, width.

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
        "batch_size": trial.suggest_categorical("batch_size", [64, 128, 256]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "l2": trial.suggest_categorical("l2", [0.0, 1e-5, 1e-4]),
        **common,
    }
    if arch == "mlp":
        overrides["hidden_units"] = (trial.suggest_categorical("hidden", [64, 128, 256, 512]),)
    return TrainConfig.for_arch(arch, **overrides)


def best_validation_accuracy(result: ExperimentResult) -> float:
    """The selection score: validation accuracy at the epoch whose weights were kept."""
    history = result.training.history
    return float(history[result.training.best_epoch - 1]["val_accuracy"])


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
    sampler: str = "tpe",
) -> StudyResult:
    """Run up to `trials` trials, starting none after `minutes`; each trial is saved as a tagged run.

    A grid search also ends once every point of its grid has been tried.
    """
    experiments: dict[int, ExperimentResult] = {}
    grid = grid_space(archs) if sampler == "grid" else None
    chosen_sampler = make_sampler(sampler, archs, seed)

    def objective(trial: optuna.Trial) -> float:
        config = suggest_config(trial, archs=archs, epochs=epochs, train_limit=train_limit, grid=grid).with_changes(
            seed=seed,
            name=f"{study_name}-trial-{trial.number}",
            tags={"study": study_name, "trial": trial.number},
        )
        result = run_experiment(config, data, store)
        experiments[trial.number] = result
        trial.set_user_attr("run_id", result.run.run_id)
        return best_validation_accuracy(result)

    # A failed trial re-raises its error to our caller; Optuna's warning would only repeat it with a traceback.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(study_name=study_name, direction="maximize", sampler=chosen_sampler)
    # A diverged trial saves nothing and counts as failed; the search goes on.
    study.optimize(objective, n_trials=trials, timeout=minutes * 60, catch=(TrainingDivergedError,))
    return StudyResult(study, experiments)
