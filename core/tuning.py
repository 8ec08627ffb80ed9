"""Hyperparameter search with Optuna, scored on the validation split only.

Every trial is saved as a run tagged with its study, so the dashboard can filter and load the
trials; the test set plays no part in choosing (callers may report the best trial's test score).
"""

from __future__ import annotations

from dataclasses import dataclass

import optuna

from core.config import TrainConfig
from core.data import MnistData
from core.errors import TrainingDivergedError
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


def suggest_config(trial: optuna.Trial, *, archs: list[str], epochs: int, train_limit: int | None) -> TrainConfig:
    """The search space: architecture, learning rate, batch size, dropout, L2, width."""
    arch = trial.suggest_categorical("arch", archs)
    overrides = {
        "learning_rate": trial.suggest_float("learning_rate", 3e-4, 1e-2, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [64, 128, 256]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "l2": trial.suggest_categorical("l2", [0.0, 1e-5, 1e-4]),
        "epochs": epochs,
        "train_limit": train_limit,
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
) -> StudyResult:
    """Run up to `trials` trials, starting none after `minutes`; each trial is saved as a tagged run."""
    experiments: dict[int, ExperimentResult] = {}

    def objective(trial: optuna.Trial) -> float:
        config = suggest_config(trial, archs=archs, epochs=epochs, train_limit=train_limit).with_changes(
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
    study = optuna.create_study(
        study_name=study_name, direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed)
    )
    # A diverged trial saves nothing and counts as failed; the search goes on.
    study.optimize(objective, n_trials=trials, timeout=minutes * 60, catch=(TrainingDivergedError,))
    return StudyResult(study, experiments)
