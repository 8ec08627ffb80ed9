"""`python -m core report`: one self-contained HTML file about saved runs, to open anywhere offline.

python -m core report RUN_ID [RUN_ID ...] [--ensemble] [--robustness [--images N]] [-o FILE]

Per run: configuration and data, training curves, metrics per digit, the confusion matrix, the top
errors with their images, calibration and the label-issue suspects; robustness curves with
--robustness (costly: seconds per run and thousand images); given several runs, their comparison.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.analysis.comparison import data_mismatch
from core.analysis.robustness import DEFAULT_SAMPLE
from core.cli.options import add_data_and_store_options, positive_int
from core.data import load_mnist
from core.errors import ConfigError, DataMismatchError
from core.report import build_report, ensemble_model_report, render_html, report_size_note, run_model_report
from core.runs import RunStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN_ID", help="runs in the store (see the dashboard)")
    parser.add_argument("--ensemble", action="store_true", help="add the runs' average as a model (2 or more)")
    parser.add_argument(
        "--robustness", action="store_true", help="measure robustness curves (about 10 s per 1,000 images per run)"
    )
    parser.add_argument(
        "--images",
        type=positive_int,
        default=DEFAULT_SAMPLE,
        help=f"test images the robustness curves are measured on (default {DEFAULT_SAMPLE})",
    )
    parser.add_argument("-o", "--output", help="the HTML file to write (default: report-<run>.html here)")
    parser.add_argument("--title", help="the report's title")
    add_data_and_store_options(parser)


def run(args: argparse.Namespace) -> int:
    store = RunStore(args.runs_dir)
    run_ids = list(dict.fromkeys(args.runs))
    infos = [store.get(run_id) for run_id in run_ids]  # an unknown run fails before the data loads
    if args.ensemble and len(infos) < 2:
        raise ConfigError("--ensemble needs at least two different runs")
    output = Path(args.output or default_output(run_ids, args.ensemble))
    if output.parent and not output.parent.is_dir():
        raise ConfigError(f"{output.parent}: no such folder")
    data = load_mnist(args.source, args.data_dir)
    print(f"data: {data.description} ({len(data.y_test):,} test images)")
    if len(infos) > 1 or args.ensemble:
        for info in infos:  # compared models must be scored on the same images
            if problem := data_mismatch(info.record, data, info.run_id):
                raise DataMismatchError(problem)
    robustness_images = args.images if args.robustness else 0
    models = []
    for info in infos:
        print(f"analysing {info.run_id}…", file=sys.stderr)
        models.append(run_model_report(store, info, data, robustness_images))
    if args.ensemble:
        print(f"analysing the ensemble of {len(infos)}…", file=sys.stderr)
        models.append(ensemble_model_report(store, infos, data, robustness_images))
    text = render_html(build_report(models, data, args.title))
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output} ({report_size_note(text)})")
    return 0


def default_output(run_ids: list[str], ensemble: bool) -> str:
    if len(run_ids) == 1:
        return f"report-{run_ids[0]}.html"
    return f"report-{run_ids[0]}-and-{len(run_ids) - 1 + int(ensemble)}-more.html"
