"""The command line: `python -m core <command>`, one module per command in this package.

A command module has `add_arguments(parser)` and `run(args) -> int`. Only the chosen command's
module is imported, so `python -m core --help` answers without loading TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from core.errors import DigitLabError
from core.tf_startup import start_tensorflow

PROG = "python -m core"
COMMANDS = {
    "train": "train a model, evaluate it on the test set and save the run",
    "evaluate": "score saved runs and .keras model files on the test set, alone and, given several, as an ensemble",
    "compare": "compare saved runs on the test set: accuracy with its interval, and McNemar's test for each pair",
    "robustness": "test accuracy of saved runs against the severity of rotation, shift, scale, blur, noise, …",
    "report": "write one self-contained HTML report of saved runs (charts, errors, calibration, …) to open offline",
    "results": "write docs/results.md and its figures from the saved runs of each model family",
    "tune": "search hyperparameters with Optuna (validation split only); every trial is saved as a run",
    "serve": "answer digit predictions over HTTP (POST /predict, /predict/batch; docs at /docs) with a run or ensemble",
}
USER_ERROR = 2  # as argparse exits on a bad option
INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    """Run one command; an expected failure (DigitLabError) becomes one line on stderr and exit code 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(chosen=argv[0] if argv else None)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except DigitLabError as error:
        print(f"error: {error}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """Every command is listed; only the `chosen` one has its module imported and its options added."""
    parser = argparse.ArgumentParser(prog=PROG, description="Digit Lab: train, evaluate and tune MNIST classifiers.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for name, summary in COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=summary)
        if name == chosen:
            start_tensorflow()  # quietly, before the command's module imports keras
            module = importlib.import_module(f"{__name__}.{name}")
            module.add_arguments(command)
            command.set_defaults(run=module.run)
    return parser
