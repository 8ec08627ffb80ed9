"""Command line: train a model, evaluate it on the test set and save the run.

python -m core.train --arch cnn --epochs 10
"""

from __future__ import annotations

import argparse
import sys

from core.cli import add_data_and_store_options
from core.config import ARCHITECTURE_DEFAULTS, SCHEDULES, TrainConfig
from core.data import load_mnist
from core.errors import DigitLabError
from core.experiment import run_experiment
from core.runs import RunStore
from core.training import ProgressEvent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m core.train", description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(ARCHITECTURE_DEFAULTS), default="mlp")
    parser.add_argument("--hidden-units", type=_unit_list, help="comma-separated, e.g. 256,128")
    parser.add_argument("--filters", type=_unit_list, help="convolution widths, e.g. 16,32,64")
    parser.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule")
    parser.add_argument("--dropout", type=float)
    parser.add_argument("--l2", type=float)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--validation-fraction", type=float)
    parser.add_argument("--patience", type=int)
    parser.add_argument("--augment", action="store_true", default=None)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--name", help="a name for the run (becomes part of its id)")
    parser.add_argument("--train-limit", type=int, help="train on the first N training images only")
    add_data_and_store_options(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = TrainConfig.for_arch(
            args.arch,
            hidden_units=args.hidden_units,
            filters=args.filters,
            schedule=args.schedule,
            dropout=args.dropout,
            l2=args.l2,
            learning_rate=args.learning_rate,
            epochs=args.epochs,
            batch_size=args.batch_size,
            validation_fraction=args.validation_fraction,
            patience=args.patience,
            augment=args.augment,
            seed=args.seed,
            name=args.name,
            train_limit=args.train_limit,
        )
        data = load_mnist(args.source, args.data_dir)
        print(f"data: {data.description} ({data.counts()['train']} train, {data.counts()['test']} test)")
        result = run_experiment(config, data, RunStore(args.runs_dir), listener=print_epoch)
    except (DigitLabError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing saved", file=sys.stderr)
        return 130
    metrics = result.evaluation.summary()
    print(
        f"run {result.run.run_id} saved in {result.run.path}\n"
        f"data source: {data.source} · test accuracy: {metrics['accuracy']:.4f} · "
        f"macro F1: {metrics['macro_f1']:.4f} · epochs run: {result.training.stopped_epoch} "
        f"(best {result.training.best_epoch}) · training seconds: {result.training.seconds:.1f}"
    )
    return 0


def print_epoch(event: ProgressEvent) -> None:
    if event.kind == "epoch":
        m = event.metrics
        print(
            f"epoch {event.epoch}/{event.epochs}: loss {m.get('loss', 0):.4f} "
            f"acc {m.get('accuracy', 0):.4f} val_loss {m.get('val_loss', 0):.4f} "
            f"val_acc {m.get('val_accuracy', 0):.4f} ({m.get('seconds', 0):.1f} s)",
            flush=True,
        )


def _unit_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from error


if __name__ == "__main__":
    sys.exit(main())
