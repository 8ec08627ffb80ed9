"""Hyperparameter search with Optuna, scored on the validation split only.

    python -m core.tune --trials 8 --minutes 20 --archs mlp,fast_cnn

Every trial is saved as a run tagged with its study; the test set is only read to report the
best trial's accuracy after the search.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime

import optuna

from core.cli import add_data_and_store_options
from core.config import ARCHITECTURE_DEFAULTS, TrainConfig
from core.data import MnistData, load_mnist
from core.errors import DigitLabError, TrainingDivergedError
from core.experiment import ExperimentResult, run_experiment
from core.runs import RunStore


def suggest_config(trial: optuna.Trial, archs: list[str], epochs: int, train_limit: int | None) -> TrainConfig:
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
    study_name: str,
    trials: int,
    minutes: float,
    archs: list[str],
    epochs: int,
    train_limit: int | None = None,
    seed: int = 0,
) -> tuple[optuna.Study, dict[int, ExperimentResult]]:
    """Run up to `trials` trials within `minutes`; each trial is saved as a tagged run."""
    results: dict[int, ExperimentResult] = {}

    def objective(trial: optuna.Trial) -> float:
        config = suggest_config(trial, archs, epochs, train_limit).with_changes(
            seed=seed,
            name=f"{study_name}-trial-{trial.number}",
            tags={"study": study_name, "trial": trial.number},
        )
        result = run_experiment(config, data, store)
        results[trial.number] = result
        trial.set_user_attr("run_id", result.run.run_id)
        return best_validation_accuracy(result)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=study_name, direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed)
    )
    # A diverged trial saves nothing and counts as failed; the search goes on.
    study.optimize(objective, n_trials=trials, timeout=minutes * 60, catch=(TrainingDivergedError,))
    return study, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.tune", description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=30.0, help="stop starting trials after this")
    parser.add_argument("--archs", default="mlp,fast_cnn", help=f"comma-separated from {list(ARCHITECTURE_DEFAULTS)}")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-limit", type=int)
    parser.add_argument("--study", help="study name (default: tune-<date>)")
    parser.add_argument("--seed", type=int, default=0)
    add_data_and_store_options(parser)
    args = parser.parse_args(argv)
    archs = [arch.strip() for arch in args.archs.split(",") if arch.strip()]
    unknown = [arch for arch in archs if arch not in ARCHITECTURE_DEFAULTS]
    if unknown or args.trials < 1 or args.minutes <= 0:
        print(
            f"error: bad options (unknown archs {unknown}, trials {args.trials}, minutes {args.minutes})",
            file=sys.stderr,
        )
        return 2
    study_name = args.study or f"tune-{datetime.now():%Y%m%d-%H%M%S}"
    try:
        data = load_mnist(args.source, args.data_dir)
        started = time.perf_counter()
        study, results = run_study(
            data,
            RunStore(args.runs_dir),
            study_name,
            args.trials,
            args.minutes,
            archs,
            args.epochs,
            args.train_limit,
            args.seed,
        )
    except (DigitLabError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"study {study_name}: {len(results)} trials in {time.perf_counter() - started:.0f} s on {data.description}")
    print(f"{'trial':>5}  {'val acc':>8}  {'arch':<9} {'lr':>8} {'batch':>5} {'dropout':>7} {'l2':>7}  run")
    for trial in study.trials:
        if trial.value is None:
            continue
        p = trial.params
        print(
            f"{trial.number:>5}  {trial.value:>8.4f}  {p['arch']:<9} {p['learning_rate']:>8.5f} "
            f"{p['batch_size']:>5} {p['dropout']:>7.3f} {p['l2']:>7g}  {trial.user_attrs['run_id']}"
        )
    best = results[study.best_trial.number]
    print(
        f"best trial {study.best_trial.number} (by validation accuracy {study.best_value:.4f}): "
        f"test accuracy {best.evaluation.accuracy:.4f}, run {best.run.run_id}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
