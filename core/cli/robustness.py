"""`python -m core robustness`: test accuracy against the severity of each perturbation, as a table.

python -m core robustness RUN_ID [RUN_ID ...] [--images 2000 | --full] [--ensemble]

One column per run (and, with --ensemble, one for their average); one row per perturbation and
severity, severity 0 being the clean images. The Robustness page shows the same numbers as curves.
"""

from __future__ import annotations

import argparse
import sys

import keras

from core.analysis.perturbations import BY_NAME
from core.analysis.robustness import DEFAULT_SAMPLE, RobustnessCurves, robustness_curves, sample_indices
from core.cli.options import add_data_and_store_options, positive_int
from core.data import load_mnist
from core.ensemble import build_ensemble
from core.errors import ConfigError
from core.runs import RunStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN_ID", help="runs in the store (see the dashboard)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--images", type=positive_int, default=DEFAULT_SAMPLE, help=f"test images sampled (default {DEFAULT_SAMPLE})"
    )
    size.add_argument("--full", action="store_true", help="measure on the whole test set")
    parser.add_argument("--ensemble", action="store_true", help="add a column for the runs' average (2 or more)")
    parser.add_argument("--seed", type=int, default=0, help="the sample's and the random perturbations' seed")
    add_data_and_store_options(parser)


def run(args: argparse.Namespace) -> int:
    store = RunStore(args.runs_dir)
    for run_id in args.runs:  # an unknown run fails before the data loads
        store.get(run_id)
    if args.ensemble and len(args.runs) < 2:
        raise ConfigError("--ensemble needs at least two runs")
    data = load_mnist(args.source, args.data_dir)
    indices = sample_indices(len(data.y_test), None if args.full else args.images, args.seed)
    print(f"data: {data.description} ({len(indices)} of {len(data.y_test)} test images)")
    models: list[tuple[str, keras.Model]] = [(run_id, store.load_model(run_id)) for run_id in args.runs]
    if args.ensemble:
        fresh = [store.load_model(run_id) for run_id in args.runs]  # the ensemble renames its members
        models.append((f"ensemble of {len(args.runs)}", build_ensemble(fresh)))
    results = {}
    for label, model in models:
        print(f"measuring {label}…", file=sys.stderr)
        results[label] = robustness_curves(model, data.x_test[indices], data.y_test[indices], seed=args.seed)
    print(format_table(results))
    return 0


def format_table(results: dict[str, RobustnessCurves]) -> str:
    """Rows: perturbation and severity; columns: the models' accuracies."""
    labels = list(results)
    widths = [max(8, len(label)) for label in labels]
    header = f"{'perturbation':<20} {'severity':>9}  " + "  ".join(
        f"{label:>{width}}" for label, width in zip(labels, widths, strict=True)
    )
    lines = [header, "-" * len(header)]
    first = next(iter(results.values()))
    for row, (name, severity, _) in enumerate(first.rows()):
        if severity == 0 and row > 0:
            continue  # the clean accuracy is printed once, first
        perturbation = BY_NAME[name]
        kind = "clean" if severity == 0 else perturbation.label
        level = "0" if severity == 0 else f"{severity:g} {perturbation.unit}"
        accuracies = "  ".join(
            f"{curves.rows()[row][2]:>{width}.4f}" for curves, width in zip(results.values(), widths, strict=True)
        )
        lines.append(f"{kind:<20} {level:>9}  {accuracies}")
    return "\n".join(lines)
