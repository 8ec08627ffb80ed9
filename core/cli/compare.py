"""`python -m core compare`: is one saved run really more accurate than another?

python -m core compare RUN_A RUN_B [RUN_C ...]

Prints each run's test accuracy with its 95 % Wilson interval, macro F1, parameters, training time
and epochs, then McNemar's test for every pair (Holm-corrected when more than two runs are compared)
and its verdict in one sentence. Every run must have been scored on the test set loaded now.
"""

from __future__ import annotations

import argparse

from core.analysis.comparison import Comparison, compare, data_mismatch, p_phrase
from core.analysis.evaluation import evaluate
from core.cli.options import add_data_and_store_options
from core.data import load_mnist
from core.errors import DataMismatchError
from core.runs import RunStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN_ID", help="two or more runs in the store")
    add_data_and_store_options(parser)


def run(args: argparse.Namespace) -> int:
    if len(set(args.runs)) < 2:
        raise DataMismatchError("compare needs at least two different runs")
    store = RunStore(args.runs_dir)
    runs = [store.get(run_id) for run_id in dict.fromkeys(args.runs)]  # an unknown run fails before the data loads
    data = load_mnist(args.source, args.data_dir)
    print(f"data: {data.description} ({len(data.y_test):,} test images)")
    for info in runs:
        if problem := data_mismatch(info.record, data, info.run_id):
            raise DataMismatchError(problem)
    evaluations = [(info.run_id, evaluate(store.load_model(info.run_id), data.x_test, data.y_test)) for info in runs]
    comparison = compare(evaluations, [info.record for info in runs])
    print(format_table(comparison))
    print()
    print(format_tests(comparison))
    return 0


def format_table(comparison: Comparison) -> str:
    """One line per run, columns aligned."""
    header = ["run", "accuracy", "95% interval", "macro F1", "errors", "parameters", "training", "epochs"]
    rows = [header]
    for s in comparison.scores:
        rows.append(
            [
                s.name,
                f"{s.accuracy:.4f}",
                f"{s.low:.4f}–{s.high:.4f}",
                f"{s.macro_f1:.4f}",
                f"{s.errors}/{s.count}",
                "n/a" if s.parameters is None else f"{s.parameters:,}",
                "n/a" if s.training_seconds is None else f"{s.training_seconds:.1f} s",
                "n/a" if s.epochs is None else str(s.epochs),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows)


def format_tests(comparison: Comparison) -> str:
    """McNemar's test per pair: the discordant counts, the method, the p-value(s), the verdict."""
    title = "McNemar's test" + (" (p-values Holm-corrected over all pairs)" if comparison.corrected else "")
    lines = [title]
    for pair in comparison.tests:
        test = pair.test
        p = p_phrase(test.p_value)
        if comparison.corrected:
            p += f", {p_phrase(pair.p_adjusted, 'Holm p')}"
        lines.append(
            f"{pair.first} vs {pair.second}: only the first right on {test.first_only}, only the second on "
            f"{test.second_only} ({test.method}, {p}). {pair.sentence}"
        )
    return "\n".join(lines)
