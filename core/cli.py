"""Options shared by the command lines (train, evaluate, tune)."""

from __future__ import annotations

import argparse

from core.data import SOURCES


def add_data_and_store_options(parser: argparse.ArgumentParser) -> None:
    """--source, --data-dir and --runs-dir: where MNIST comes from and where runs are kept."""
    parser.add_argument("--source", choices=SOURCES, default="auto", help="where MNIST comes from")
    parser.add_argument("--data-dir", help="folder with MNIST IDX files or mnist.npz")
    parser.add_argument("--runs-dir", help="run store (default: RUNS_DIR or runs/)")
