"""`python -m core train`: train a model, evaluate it on the test set and save the run.

python -m core train --arch cnn --epochs 10
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.checkpoints import backed_up_epochs
from core.cli.options import activation_list, add_data_and_store_options, int_list
from core.config import (
    ACTIVATIONS,
    ARCHITECTURE_DEFAULTS,
    EARLY_STOPPING_MONITORS,
    PRECISIONS,
    SCHEDULES,
    TrainConfig,
)
from core.data import MnistData, load_mnist
from core.experiment import ExperimentResult, run_experiment
from core.runs import RunStore
from core.training import ProgressEvent

# Options that set a TrainConfig field of the same name; left out, the architecture's default applies.
CONFIG_OPTIONS = (
    "hidden_units",
    "filters",
    "kernel_size",
    "schedule",
    "dropout",
    "l2",
    "learning_rate",
    "learning_rate_decay",
    "epochs",
    "batch_size",
    "validation_fraction",
    "patience",
    "early_stopping_monitor",
    "activation",
    "augment",
    "augment_rotation",
    "augment_shift",
    "elastic",
    "weight_averaging",
    "precision",
    "seed",
    "name",
    "train_limit",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--arch", choices=list(ARCHITECTURE_DEFAULTS), default="mlp")
    parser.add_argument("--hidden-units", type=int_list, help="comma-separated, e.g. 256,128")
    parser.add_argument("--filters", type=int_list, help="convolution widths, e.g. 16,32,64")
    parser.add_argument(
        "--kernel-size", type=int, help="kernel_cnn's kernel size (3, 5 or 7 pick matching widths; default 5)"
    )
    parser.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule")
    parser.add_argument("--dropout", type=float)
    parser.add_argument("--l2", type=float)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument(
        "--learning-rate-decay",
        type=float,
        metavar="FACTOR",
        help="with --schedule exponential: multiply the rate by this after every epoch (default 0.98)",
    )
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--validation-fraction", type=float)
    parser.add_argument("--patience", type=int)
    parser.add_argument(
        "--early-stopping-monitor",
        choices=EARLY_STOPPING_MONITORS,
        help="keep the epoch with the lowest validation loss (default) or the highest validation accuracy",
    )
    parser.add_argument(
        "--activation",
        type=activation_list,
        help=f"of the hidden layers: one for all, or one per layer, e.g. relu,tanh; from {', '.join(ACTIVATIONS)}",
    )
    parser.add_argument("--augment", action="store_true", default=None)
    parser.add_argument(
        "--augment-rotation", type=float, help="with --augment: rotate by up to ± this many degrees (default 10)"
    )
    parser.add_argument(
        "--augment-shift", type=float, help="with --augment: shift by up to ± this fraction of the size (default 0.1)"
    )
    parser.add_argument(
        "--elastic", action="store_true", default=None, help="also bend each training digit (elastic distortions)"
    )
    parser.add_argument(
        "--weight-averaging",
        type=float,
        metavar="DECAY",
        help="validate and keep a moving average of the weights with this decay per step, e.g. 0.999 (default: off)",
    )
    parser.add_argument(
        "--precision", choices=PRECISIONS, help="what training computes in (auto: bfloat16 where the CPU has it)"
    )
    parser.add_argument("--seed", type=int)
    parser.add_argument("--name", help="a name for the run (becomes part of its id)")
    parser.add_argument("--train-limit", type=int, help="train on the first N training images only")
    parser.add_argument(
        "--backup-dir",
        type=Path,
        help="keep the training state here after every epoch; if the run is stopped, the same command carries on "
        "from its last finished epoch (removed once the run is saved)",
    )
    add_data_and_store_options(parser)


def run(args: argparse.Namespace) -> int:
    config = TrainConfig.for_arch(args.arch, **{option: getattr(args, option) for option in CONFIG_OPTIONS})
    data = load_mnist(args.source, args.data_dir)
    counts = data.counts()
    print(f"data: {data.description} ({counts['train']} train, {counts['test']} test)")
    if backed_up_epochs(args.backup_dir):
        print(f"resuming from the training state in {args.backup_dir}")
    result = run_experiment(config, data, RunStore(args.runs_dir), listener=print_epoch, backup_dir=args.backup_dir)
    print(format_result(result, data))
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


def format_result(result: ExperimentResult, data: MnistData) -> str:
    """Where the run was saved, and how it scored and trained."""
    training, calibration = result.training, result.run.record.calibration
    lines = (
        f"run {result.run.run_id} saved in {result.run.path}\n"
        f"data source: {data.source} · test accuracy: {result.evaluation.accuracy:.4f} · "
        f"macro F1: {result.evaluation.summary()['macro_f1']:.4f} · epochs run: {training.stopped_epoch} "
        f"(best {training.best_epoch} by {result.run.record.config.early_stopping_monitor}) · "
        f"training seconds: {training.seconds:.1f}"
        + (f" in {training.precision}" if training.precision != "float32" else "")
    )
    if calibration is not None:
        lines += (
            f"\ntemperature {calibration.temperature:.3f} (fitted on {calibration.images} validation images; "
            f"their log-loss {calibration.nll_before:.4f} → {calibration.nll_after:.4f})"
        )
    return lines
