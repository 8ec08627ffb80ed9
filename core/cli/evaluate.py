"""`python -m core evaluate`: score saved runs and model files on the test set, alone and, given several, together.

python -m core evaluate RUN_ID [RUN_ID ...]
python -m core evaluate path/to/model.keras [RUN_ID ...]
python -m core evaluate RUN_ID [RUN_ID ...] --rotations   # also with test-time rotations

An argument ending in .keras is a model trained elsewhere: it is adapted to 28×28 images in [0, 1]
and 10 probabilities (core.adapters), and what the adapter does is printed before the scores.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import keras

from core.adapters import PIXEL_SCALES, load_user_model
from core.analysis.evaluation import Evaluation, evaluate
from core.cli.options import add_data_and_store_options
from core.data import load_mnist
from core.ensemble import build_ensemble
from core.errors import ModelFileError
from core.runs import RunStore
from core.test_time_augmentation import ROTATION_ANGLES, predict_with_rotations

MODEL_FILE_SUFFIX = ".keras"
AUTO = "auto"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "models",
        nargs="+",
        metavar="RUN_ID_OR_FILE",
        help="runs in the store (see the dashboard), or .keras files of models trained elsewhere",
    )
    parser.add_argument(
        "--pixel-scale",
        choices=[AUTO, *(f"{scale:g}" for scale in PIXEL_SCALES)],
        default=AUTO,
        help="pixels the model files were trained on: 0–1 or 0–255 (default: measured on test images)",
    )
    parser.add_argument(
        "--rotations",
        action="store_true",
        help="also score each with test-time rotations: the mean of its readings of each digit as it is and turned "
        + " and ".join(f"{angle:+g}°" for angle in ROTATION_ANGLES),
    )
    add_data_and_store_options(parser)


def run(args: argparse.Namespace) -> int:
    store = RunStore(args.runs_dir)
    for item in args.models:  # an unknown run or a missing file fails before the data loads
        if is_model_file(item):
            if not Path(item).is_file():
                raise ModelFileError(f"{item}: no such file")
        else:
            store.get(item)
    data = load_mnist(args.source, args.data_dir)
    print(f"data: {data.description} ({data.counts()['test']} test images)")
    pixel_scale = None if args.pixel_scale == AUTO else float(args.pixel_scale)
    models: list[tuple[str, keras.Model]] = []
    for item in args.models:
        if is_model_file(item):
            adapted = load_user_model(item, data.x_test, data.y_test, pixel_scale)
            for note in adapted.notes():
                print(f"{item}: {note}")
            models.append((item, adapted.model))
        else:
            models.append((item, store.load_model(item)))
    if len(models) > 1:
        models.append((f"ensemble of {len(models)}", build_ensemble([model for _, model in models])))
    for label, model in models:
        print(format_line(label, evaluate(model, data.x_test, data.y_test)))
        if args.rotations:
            rotated = Evaluation(data.y_test, predict_with_rotations(model, data.x_test))
            print(format_line(f"{label} with rotations", rotated))
    return 0


def is_model_file(argument: str) -> bool:
    """A model file, not a run id: run ids never end in .keras."""
    return argument.endswith(MODEL_FILE_SUFFIX)


def format_line(label: str, evaluation: Evaluation) -> str:
    summary = evaluation.summary()
    return (
        f"{label}: test accuracy {summary['accuracy']:.4f} · macro F1 {summary['macro_f1']:.4f} · "
        f"errors {summary['errors']}/{summary['count']}"
    )
