"""The HTML report (core/report.py, `python -m core report`): every section, self-contained, plotly.js once, small."""

from __future__ import annotations

import re

import pytest

from core.cli import main
from core.report import (
    SIZE_TARGET_BYTES,
    TOP_ERRORS,
    TOP_SUSPECTS,
    build_report,
    render_html,
    run_model_report,
)
from core.runs import RunStore
from tests.support.reports import SCRIPT_BLOCK, full_report, remote_references

PLOTLY_JS_BANNER = re.compile(r"\* plotly\.js v\d")


@pytest.fixture(scope="module")
def report_runs(tiny_runs, tmp_path_factory) -> tuple[RunStore, list[str]]:
    """Two of the session's tiny MLPs (one epoch on 600 images): enough errors for every section. Read-only."""
    root, ids = tiny_runs.store_with(tmp_path_factory.mktemp("report-runs"), first="alpha", second="beta")
    return RunStore(root), list(ids.values())


@pytest.fixture(scope="module")
def report_html(report_runs, sample_data) -> str:
    store, ids = report_runs
    return full_report(store, ids, sample_data)


def test_report_has_every_section_for_every_model(report_html, report_runs):
    _, ids = report_runs
    names = [*ids, "ensemble of 2"]
    assert report_html.count('<section id="model-') == len(names)
    for name in names:
        assert f"<h2>{name}</h2>" in report_html
    sections = [
        "Configuration and data",
        "Training curves",
        "Metrics per digit",
        "Confusion matrix",
        "Top errors",
        "Calibration",
        "Label-issue suspects",
        "Robustness",
    ]
    for heading in sections:
        assert report_html.count(f"<h3>{heading}</h3>") >= len(names), heading
    assert '<section id="comparison">' in report_html and "McNemar" in report_html
    assert "Validation curves" in report_html
    assert "An ensemble has no training history of its own" in report_html
    for run_id in ids:  # the ensemble names its members
        assert report_html.count(run_id) > 2


def test_report_is_self_contained_with_plotly_once(report_html):
    assert len(PLOTLY_JS_BANNER.findall(report_html)) == 1
    assert "cdn.plot.ly" not in SCRIPT_BLOCK.sub("", report_html)
    assert remote_references(report_html) == []
    assert "<link" not in report_html  # no stylesheet or font from elsewhere
    # Every chart after the first uses the plotly.js the first one carried: one newPlot per chart.
    charts = report_html.count("Plotly.newPlot(")
    # Per run: training curves, confusion, two reliability diagrams, robustness; the ensemble has no curves;
    # the comparison overlays the validation curves and the robustness curves.
    assert charts == 2 * 5 + 4 + 2
    images = re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"', report_html)
    assert len(images) >= 3 * (TOP_SUSPECTS + 1) and len(images) <= 3 * (TOP_ERRORS + TOP_SUSPECTS)
    assert len(report_html.encode("utf-8")) < SIZE_TARGET_BYTES


def test_remote_reference_check_catches_what_it_should():
    assert remote_references('<img src="https://example.org/x.png">') != []
    assert remote_references('<a href="//example.org">x</a>') != []
    assert remote_references('<script src="https://cdn.plot.ly/plotly.min.js"></script>') != []
    assert remote_references('<script>var s = "<a href=\\"https://plotly.com/\\">";</script>') == []


def test_report_of_one_run_has_no_comparison_and_no_robustness_unless_asked(report_runs, sample_data):
    store, ids = report_runs
    text = render_html(build_report([run_model_report(store, store.get(ids[0]), sample_data)], sample_data))
    assert '<section id="comparison">' not in text
    assert "<h3>Robustness</h3>" not in text
    assert "<h3>Calibration</h3>" in text and "<h3>Top errors</h3>" in text
    assert len(PLOTLY_JS_BANNER.findall(text)) == 1


def test_report_cli_writes_the_file(report_runs, tmp_path, capsys):
    store, ids = report_runs
    output = tmp_path / "out.html"
    args = ["report", *ids, "--ensemble", "--source", "sample", "--runs-dir", str(store.root), "-o", str(output)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"wrote {output} (" in out and " MB)" in out
    text = output.read_text(encoding="utf-8")
    assert '<section id="comparison">' in text and "ensemble of 2" in text
    assert "<h3>Robustness</h3>" not in text  # only with --robustness


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["no-such-run"], "error: no run 'no-such-run'"),
        (["{0}", "--ensemble"], "error: --ensemble needs at least two different runs"),
        (["{0}", "-o", "/no/such/folder/report.html"], "error: /no/such/folder: no such folder"),
    ],
)
def test_report_cli_errors_are_one_line(report_runs, capsys, arguments, message):
    store, ids = report_runs
    arguments = [argument.format(ids[0]) for argument in arguments]
    code = main(["report", *arguments, "--source", "sample", "--runs-dir", str(store.root)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith(message) and "\n" not in err


def test_a_model_without_runs_is_calibrated_on_a_training_slice(report_runs, sample_data):
    """An uploaded model (the dashboard's report of an upload): no held-out split is known."""
    from core.report import temperature_of

    store, ids = report_runs
    scaling, where = temperature_of(store.load_model(ids[0]), [], sample_data)
    assert scaling.temperature > 0 and scaling.images > 0
    assert "stratified" in where and "training set" in where
