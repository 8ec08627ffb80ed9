"""`python -m core evaluate`: score saved runs on the test set, one by one and, given several, as an ensemble.

python -m core evaluate RUN_ID [RUN_ID ...]
"""

from __future__ import annotations

import argparse

from core.analysis.evaluation import Evaluation, evaluate
from core.cli.options import add_data_and_store_options
from core.data import load_mnist
from core.ensemble import build_ensemble
from core.runs import RunStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_ids", nargs="+", metavar="RUN_ID", help="runs in the store (see the dashboard)")
    add_data_and_store_options(parser)


def run(args: argparse.Namespace) -> int:
    store = RunStore(args.runs_dir)
    runs = [store.get(run_id) for run_id in args.run_ids]  # an unknown id fails before the data loads
    data = load_mnist(args.source, args.data_dir)
    print(f"data: {data.description} ({data.counts()['test']} test images)")
    models = [store.load_model(run.run_id) for run in runs]
    for run_info, model in zip(runs, models, strict=True):
        print(format_line(run_info.run_id, evaluate(model, data.x_test, data.y_test)))
    if len(models) > 1:
        ensemble = build_ensemble(models)
        print(format_line(f"ensemble of {len(runs)}", evaluate(ensemble, data.x_test, data.y_test)))
    return 0


def format_line(label: str, evaluation: Evaluation) -> str:
    summary = evaluation.summary()
    return (
        f"{label}: test accuracy {summary['accuracy']:.4f} · macro F1 {summary['macro_f1']:.4f} · "
        f"errors {summary['errors']}/{summary['count']}"
    )
