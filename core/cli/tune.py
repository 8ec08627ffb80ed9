"""`python -m core tune`: search hyperparameters with Optuna (core.tuning) and print the trials.

    python -m core tune --trials 8 --minutes 20 --archs mlp,fast_cnn
    python -m core tune --sampler grid --archs mlp      # the declared grid, printed before it starts

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
from core.experiment import ExperimentResult
from core.runs import RunStore
from core.tuning import SAMPLERS, StudyResult, describe_grid, grid_size, grid_space, run_study

DEFAULT_TRIALS = 8
TABLE_HEADER = (
    f"{'trial':>5}  {'val acc':>8}  {'arch':<9} {'activation':<10} {'lr':>8} {'batch':>5} {'dropout':>7} {'l2':>7}  run"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trials", type=positive_int, help=f"at most this many (default {DEFAULT_TRIALS}; a grid: all its points)"
    )
    parser.add_argument(
        "--sampler", choices=SAMPLERS, default="tpe", help="tpe (Bayesian, default), random, or a small declared grid"
    )
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
    trials = args.trials or DEFAULT_TRIALS
    if args.sampler == "grid":
        space = grid_space(args.archs)
        trials = args.trials or grid_size(space)
        print(describe_grid(space))
        print(f"running {min(trials, grid_size(space))} of them", flush=True)
    started = time.perf_counter()
    result = run_study(
        data,
        RunStore(args.runs_dir),
        study_name=study_name,
        trials=trials,
        minutes=args.minutes,
        archs=args.archs,
        epochs=args.epochs,
        train_limit=args.train_limit,
        seed=args.seed,
        sampler=args.sampler,
    )
    seconds = time.perf_counter() - started
    print(
        f"study {study_name} ({args.sampler}): {len(result.experiments)} trials in {seconds:.0f} s "
        f"on {data.description}"
    )
    print(TABLE_HEADER)
    for trial in result.study.trials:
        if trial.value is not None:
            print(format_trial(trial, result.experiments[trial.number]))
    print(format_best(result))
    return 0


def format_trial(trial: optuna.trial.FrozenTrial, experiment: ExperimentResult) -> str:
    """One row of the table: the trial's score, the settings its run trained with (searched or default), its run."""
    c = experiment.run.record.config
    return (
        f"{trial.number:>5}  {trial.value:>8.4f}  {c.arch:<9} {','.join(c.activation):<10} {c.learning_rate:>8.5f} "
        f"{c.batch_size:>5} {c.dropout:>7.3f} {c.l2:>7g}  {trial.user_attrs['run_id']}"
    )


def format_best(result: StudyResult) -> str:
    """The best trial by validation accuracy, and only then its test accuracy."""
    return (
        f"best trial {result.study.best_trial.number} (by validation accuracy {result.study.best_value:.4f}): "
        f"test accuracy {result.best.evaluation.accuracy:.4f}, run {result.best.run.run_id}"
    )
