"""`python -m core results`: write docs/results.md and its figures (docs/results/*.png) from saved runs.

python -m core results [--output docs/results.md] [--runs-dir DIR] [--data-dir MNIST]

One run per model family (seed MLP, Keras-example CNN, fast and deep recipes, best tuned trial; the
best of each by validation accuracy) and their ensemble; families without a run are named as missing.
Every number in the document is computed here from the runs' test-set predictions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.options import add_data_and_store_options
from core.data import load_mnist
from core.errors import ConfigError
from core.results import write_results
from core.runs import RunStore

DEFAULT_OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "results.md"
COMMAND = "python -m core results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", default=str(DEFAULT_OUTPUT), help="the markdown file (figures go in a folder beside it)"
    )
    add_data_and_store_options(parser)


def run(args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.suffix != ".md":
        raise ConfigError(f"{output}: the output must be a .md file")
    if not output.parent.is_dir():
        raise ConfigError(f"{output.parent}: no such folder")
    store = RunStore(args.runs_dir)
    data = load_mnist(args.source, args.data_dir)
    print(f"data: {data.description} ({len(data.y_test):,} test images)")
    reported, missing = write_results(store, data, output, COMMAND, log=lambda line: print(line, file=sys.stderr))
    print(f"wrote {output} and {output.parent / output.stem}/: {', '.join(reported)}")
    if missing:
        print(f"missing (no run on this data): {', '.join(family.title for family in missing)}")
    return 0
