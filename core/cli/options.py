"""Options and argument types the commands share; a bad value is refused by argparse (exit 2)."""

from __future__ import annotations

import argparse

from core.config import ACTIVATIONS, ARCHITECTURE_DEFAULTS
from core.data import SOURCES


def add_data_and_store_options(parser: argparse.ArgumentParser) -> None:
    """--source, --data-dir and --runs-dir: where MNIST comes from and where runs are kept."""
    parser.add_argument("--source", choices=SOURCES, default="auto", help="where MNIST comes from")
    parser.add_argument("--data-dir", help="folder with MNIST IDX files or mnist.npz")
    parser.add_argument("--runs-dir", help="run store (default: RUNS_DIR or runs/)")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from error
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from error
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def int_list(text: str) -> tuple[int, ...]:
    """Read "256,128" as (256, 128)."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from error


def arch_list(text: str) -> list[str]:
    """Read "mlp,fast_cnn" as ["mlp", "fast_cnn"]; each must be a known architecture."""
    archs = [arch.strip() for arch in text.split(",") if arch.strip()]
    unknown = [arch for arch in archs if arch not in ARCHITECTURE_DEFAULTS]
    if not archs:
        raise argparse.ArgumentTypeError("no architecture given")
    if unknown:
        known = ", ".join(ARCHITECTURE_DEFAULTS)
        raise argparse.ArgumentTypeError(f"unknown architecture(s) {', '.join(unknown)}; choose from {known}")
    return archs


def activation_list(text: str) -> tuple[str, ...]:
    """Read "relu" as ("relu",) and "relu,tanh" as ("relu", "tanh"); each must be a known activation."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in ACTIVATIONS]
    if not names:
        raise argparse.ArgumentTypeError("no activation given")
    if unknown:
        known = ", ".join(ACTIVATIONS)
        raise argparse.ArgumentTypeError(f"unknown activation(s) {', '.join(unknown)}; choose from {known}")
    return names
