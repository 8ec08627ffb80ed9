"""Command line: evaluate saved runs on the test set, one by one and, given several, as an ensemble.

python -m core.evaluate RUN_ID [RUN_ID ...]
"""

from __future__ import annotations

import argparse
import sys

from core.cli import add_data_and_store_options
from core.data import load_mnist
from core.ensemble import build_ensemble
from core.errors import DigitLabError
from core.evaluation import Evaluation, evaluate
from core.runs import RunStore


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m core.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("run_ids", nargs="+", metavar="RUN_ID", help="runs in the store (see the dashboard)")
    add_data_and_store_options(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        store = RunStore(args.runs_dir)
        runs = [store.get(run_id) for run_id in args.run_ids]
        data = load_mnist(args.source, args.data_dir)
        print(f"data: {data.description} ({data.counts()['test']} test images)")
        models = [store.load_model(run.run_id) for run in runs]
        for run, model in zip(runs, models, strict=True):
            print(format_line(run.run_id, evaluate(model, data.x_test, data.y_test)))
        if len(models) > 1:
            ensemble = build_ensemble(models)
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
