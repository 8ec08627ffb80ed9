"""Command line: evaluate saved runs on the test set, one by one and, given several, as an ensemble.

python -m core.evaluate RUN_ID [RUN_ID ...]
"""

from __future__ import annotations

import argparse
import sys

from core.data import SOURCES, load_mnist
from core.ensemble import build_ensemble
from core.errors import DigitLabError
from core.evaluation import Evaluation, evaluate
from core.runs import RunStore


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m core.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("run_ids", nargs="+", metavar="RUN_ID", help="runs in the store (see the dashboard)")
    parser.add_argument("--source", choices=SOURCES, default="auto", help="where MNIST comes from")
    parser.add_argument("--data-dir", help="folder with MNIST IDX files or mnist.npz")
    parser.add_argument("--runs-dir", help="run store (default: RUNS_DIR or runs/)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        store = RunStore(args.runs_dir)
        runs = [store.get(run_id) for run_id in args.run_ids]
        data = load_mnist(args.source, args.data_dir)
        print(f"data: {data.description} ({data.counts()['test']} test images)")
        for run in runs:
            print(format_line(run.run_id, evaluate(store.load_model(run.run_id), data.x_test, data.y_test)))
        if len(runs) > 1:
            ensemble = build_ensemble([store.load_model(run.run_id) for run in runs])
            print(format_line(f"ensemble of {len(runs)}", evaluate(ensemble, data.x_test, data.y_test)))
    except DigitLabError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def format_line(label: str, evaluation: Evaluation) -> str:
    summary = evaluation.summary()
    return (
        f"{label}: test accuracy {summary['accuracy']:.4f} · macro F1 {summary['macro_f1']:.4f} · "
        f"errors {summary['errors']}/{summary['count']}"
    )


if __name__ == "__main__":
    sys.exit(main())
