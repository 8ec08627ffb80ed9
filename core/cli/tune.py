"""`python -m core tune`: search hyperparameters with Optuna (core.tuning) and print the trials.

    python -m core tune --trials 8 --minutes 20 --archs mlp,fast_cnn

The test set is only read to report the best trial's accuracy after the search.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime

import optuna

from core.cli.options import add_data_and_store_options, arch_list, positive_float, positive_int
from core.config import ARCHITECTURE_DEFAULTS
from core.data import load_mnist
from core.runs import RunStore
from core.tuning import StudyResult, run_study

TABLE_HEADER = f"{'trial':>5}  {'val acc':>8}  {'arch':<9} {'lr':>8} {'batch':>5} {'dropout':>7} {'l2':>7}  run"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trials", type=positive_int, default=8)
    parser.add_argument("--minutes", type=positive_float, default=30.0, help="start no trial after this")
    known = ", ".join(ARCHITECTURE_DEFAULTS)
    parser.add_argument("--archs", type=arch_list, default="mlp,fast_cnn", help=f"comma-separated from {known}")
    parser.add_argument("--epochs", type=positive_int, default=3)
    parser.add_argument("--train-limit", type=positive_int, help="train on the first N training images only")
    parser.add_argument("--study", help="study name (default: tune-<date>-<time>)")
    parser.add_argument("--seed", type=int, default=0)
    add_data_and_store_options(parser)


def run(args: argparse.Namespace) -> int:
    study_name = args.study or f"tune-{datetime.now():%Y%m%d-%H%M%S}"
    data = load_mnist(args.source, args.data_dir)
    started = time.perf_counter()
    result = run_study(
        data,
        RunStore(args.runs_dir),
        study_name=study_name,
        trials=args.trials,
        minutes=args.minutes,
        archs=args.archs,
        epochs=args.epochs,
        train_limit=args.train_limit,
        seed=args.seed,
    )
    seconds = time.perf_counter() - started
    print(f"study {study_name}: {len(result.experiments)} trials in {seconds:.0f} s on {data.description}")
    print(TABLE_HEADER)
    for trial in result.study.trials:
        if trial.value is not None:
            print(format_trial(trial))
    print(format_best(result))
    return 0


def format_trial(trial: optuna.trial.FrozenTrial) -> str:
    """One row of the table: the trial's score, its settings and its run."""
    p = trial.params
    return (
        f"{trial.number:>5}  {trial.value:>8.4f}  {p['arch']:<9} {p['learning_rate']:>8.5f} "
        f"{p['batch_size']:>5} {p['dropout']:>7.3f} {p['l2']:>7g}  {trial.user_attrs['run_id']}"
    )


def format_best(result: StudyResult) -> str:
    """The best trial by validation accuracy, and only then its test accuracy."""
    return (
        f"best trial {result.study.best_trial.number} (by validation accuracy {result.study.best_value:.4f}): "
        f"test accuracy {result.best.evaluation.accuracy:.4f}, run {result.best.run.run_id}"
    )
