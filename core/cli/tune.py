"""`python -m core tune`: search hyperparameters with Optuna (core.tuning) and print the trials.

    python -m core tune --trials 8 --minutes 20 --archs mlp,fast_cnn
    python -m core tune --storage postgresql://user:pw@db-host/optuna --study wide-search --trials 200
    python -m core tune --sampler grid --archs mlp      # the declared grid, printed before it starts

One command is one worker: run the same command (same --storage and --study) on as many processes
and machines as you like; they share the study through the storage and the runs through the store
(--runs-dir or RUNS_DIR on shared storage). See docs/scale-out.md. The test set is only read to
report the best trial's accuracy after the search.
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
from core.study_storage import DEFAULT_HEARTBEAT_SECONDS, STORAGE_ENV, open_storage, parse_storage
from core.tuning import RUN_ATTR, SAMPLERS, WORKER_ATTR, StudyResult, describe_grid, grid_size, grid_space, run_study

DEFAULT_TRIALS = 8
TABLE_HEADER = (
    f"{'trial':>5}  {'state':<8} {'val acc':>8}  {'arch':<9} {'activation':<10} {'lr':>8} {'schedule':<9} {'batch':>5} "
    f"{'dropout':>7} {'l2':>7} {'aug':<5}  {'worker':<24} run"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trials",
        type=positive_int,
        help=f"the study's budget, across all workers (default {DEFAULT_TRIALS}; a grid: all its points)",
    )
    parser.add_argument(
        "--sampler", choices=SAMPLERS, default="tpe", help="tpe (Bayesian, default), random, or a small declared grid"
    )
    parser.add_argument("--minutes", type=positive_float, default=30.0, help="this worker starts no trial after this")
    known = ", ".join(ARCHITECTURE_DEFAULTS)
    parser.add_argument("--archs", type=arch_list, default="mlp,fast_cnn", help=f"comma-separated from {known}")
    parser.add_argument("--epochs", type=positive_int, default=3)
    parser.add_argument("--train-limit", type=positive_int, help="train on the first N training images only")
    parser.add_argument("--study", help="study name; workers with the same name join it (default: tune-<date>-<time>)")
    parser.add_argument(
        "--storage",
        help=f"a PostgreSQL URL for workers on many machines, or a journal file path "
        f"(default: {STORAGE_ENV}, else .studies/optuna-journal.log in the run store); SQLite is refused",
    )
    parser.add_argument(
        "--heartbeat",
        type=positive_int,
        default=DEFAULT_HEARTBEAT_SECONDS,
        help="seconds between a running trial's heartbeats",
    )
    parser.add_argument(
        "--grace",
        type=positive_int,
        help="seconds without a heartbeat after which a trial's worker counts as dead and the trial is retried "
        "(default: 3 heartbeats)",
    )
    parser.add_argument("--no-pruning", action="store_true", help="let every trial run all its epochs")
    parser.add_argument("--seed", type=int, default=0)
    add_data_and_store_options(parser)


def run(args: argparse.Namespace) -> int:
    study_name = args.study or f"tune-{datetime.now():%Y%m%d-%H%M%S}"
    store = RunStore(args.runs_dir)
    spec = parse_storage(args.storage, store.root)
    grace = args.grace or 3 * args.heartbeat
    storage = open_storage(spec, heartbeat=args.heartbeat, grace=grace)  # refuses SQLite before loading data
    data = load_mnist(args.source, args.data_dir)
    trials = args.trials or DEFAULT_TRIALS
    if args.sampler == "grid":
        space = grid_space(args.archs)
        trials = min(args.trials or grid_size(space), grid_size(space))
        print(describe_grid(space))
        print(f"running {trials} of them", flush=True)
    started = time.perf_counter()
    result = run_study(
        data,
        store,
        study_name=study_name,
        trials=trials,
        minutes=args.minutes,
        archs=args.archs,
        epochs=args.epochs,
        train_limit=args.train_limit,
        seed=args.seed,
        storage=storage,
        pruning=not args.no_pruning,
        sampler=args.sampler,
    )
    seconds = time.perf_counter() - started
    trials = result.study.get_trials(deepcopy=False)
    states = ", ".join(f"{sum(t.state == s for t in trials)} {s.name.lower()}" for s in _states_present(trials))
    print(f"study {study_name} ({args.sampler}): {len(trials)} trials ({states}) in {spec.display}")
    print(f"data: {data.description}")
    print(f"this worker ran {len(result.ran)} of them in {seconds:.0f} s")
    print(TABLE_HEADER)
    for trial in trials:
        print(format_trial(trial))
    print(format_best(result, store))
    return 0


def _states_present(trials: list[optuna.trial.FrozenTrial]) -> list[optuna.trial.TrialState]:
    return [state for state in optuna.trial.TrialState if any(t.state == state for t in trials)]


def format_trial(trial: optuna.trial.FrozenTrial) -> str:
    """One row of the table: the trial's state, score, settings, worker and run."""
    p = trial.params
    value = f"{trial.value:>8.4f}" if trial.value is not None else f"{'-':>8}"
    lr = f"{p['learning_rate']:>8.5f}" if "learning_rate" in p else f"{'':>8}"
    dropout = f"{p['dropout']:>7.3f}" if "dropout" in p else f"{'':>7}"
    return (
        f"{trial.number:>5}  {trial.state.name.lower():<8} {value}  {p.get('arch', ''):<9} "
        f"{p.get('activation', 'relu'):<10} {lr} "
        f"{p.get('schedule', ''):<9} {p.get('batch_size', ''):>5} {dropout} {p.get('l2', ''):>7} "
        f"{str(p.get('augment', '')):<5}  {trial.user_attrs.get(WORKER_ATTR, ''):<24} "
        f"{trial.user_attrs.get(RUN_ATTR, '')}"
    )


def format_best(result: StudyResult, store: RunStore) -> str:
    """The best trial by validation accuracy, and only then its test accuracy."""
    best = result.best_run(store)
    if best is None:
        return "no trial completed yet"
    return (
        f"best trial {result.study.best_trial.number} (by validation accuracy {result.study.best_value:.4f}): "
        f"test accuracy {best.test_accuracy:.4f}, run {best.run_id}"
    )
