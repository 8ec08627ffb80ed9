"""A self-contained HTML report of one or more models, to open offline from a laptop or an e-mail.

One file holds everything: Plotly's JavaScript inlined once (the first chart carries it, the
others refer to it), the digits as base64 PNGs, and no request to any server, so it renders the
same from a USB stick, an attachment or a file share as on the machine that built it. The charts
are the dashboard's own (core.figures); the analyses are core.analysis'. `analyse_model` does the
measuring, `render_html` only writes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import keras
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core import figures
from core.analysis.calibration import CalibrationReport, calibration_report, fit_model_temperature, images_to_fit_on
from core.analysis.comparison import Comparison, compare, p_phrase
from core.analysis.evaluation import Evaluation, evaluate, misclassified, most_confused_pairs
from core.analysis.label_issues import LabelIssues, rank_label_issues
from core.analysis.robustness import RobustnessCurves, robustness_curves, sample_indices
from core.data import MnistData
from core.disputed_labels import DISPUTED_NOTE, disputed_test_indices
from core.ensemble import build_ensemble
from core.images import png_data_uri
from core.record import RunRecord, TemperatureScaling
from core.runs import RunInfo, RunStore

TOP_ERRORS = 24  # the most confident mistakes shown with their images
TOP_SUSPECTS = 12  # the test labels most likely wrong
SIZE_TARGET_BYTES = 6 * 1024 * 1024  # plotly.js alone is ~4.8 MB
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class ModelReport:
    """One model's measured analyses, ready to be written."""

    name: str
    evaluation: Evaluation
    record: RunRecord | None = None  # None for an ensemble or an uploaded file
    members: tuple[str, ...] = ()  # an ensemble's member runs
    description: str = ""  # e.g. "average of 3 runs' probabilities", "uploaded file mine.keras"
    calibration: TemperatureScaling | None = None
    calibration_source: str = ""  # where the temperature was fitted, in words
    label_issues: LabelIssues | None = None
    robustness: RobustnessCurves | None = None


@dataclass(frozen=True)
class Report:
    """Everything the HTML file shows: the models, their comparison, the test images they were scored on."""

    title: str
    data_description: str
    test_images: np.ndarray = field(repr=False)
    models: tuple[ModelReport, ...]
    comparison: Comparison | None = None
    disputed: frozenset[int] = frozenset()  # human-disputed test labels (full MNIST only)
    created: str = ""


def analyse_model(
    name: str,
    model: keras.Model,
    data: MnistData,
    record: RunRecord | None = None,
    members: Sequence[str] = (),
    description: str = "",
    calibration: TemperatureScaling | None = None,
    calibration_source: str = "",
    robustness_images: int | None = 0,
    evaluation: Evaluation | None = None,
    robustness: RobustnessCurves | None = None,
) -> ModelReport:
    """Evaluate `model` on the test set and run the cheap analyses (label issues come from the same pass).

    Robustness is costly (about 10 s per 1,000 images for a small convnet): measured only when
    `robustness_images` is a number of images (None: all of them), or passed in already measured.
    """
    evaluation = evaluation or evaluate(model, data.x_test, data.y_test)
    issues = rank_label_issues(evaluation.labels, evaluation.probabilities)
    if robustness is None and robustness_images != 0:
        indices = sample_indices(len(data.y_test), robustness_images)
        robustness = robustness_curves(model, data.x_test[indices], data.y_test[indices])
    return ModelReport(
        name=name,
        evaluation=evaluation,
        record=record,
        members=tuple(members),
        description=description,
        calibration=calibration,
        calibration_source=calibration_source,
        label_issues=issues,
        robustness=robustness,
    )


def build_report(models: Sequence[ModelReport], data: MnistData, title: str | None = None) -> Report:
    """The report of `models` on `data`'s test set; a comparison (McNemar per pair) when there are several."""
    if not models:
        raise ValueError("a report needs at least one model")
    comparison = None
    if len(models) > 1:
        comparison = compare([(m.name, m.evaluation) for m in models], [m.record for m in models])
    names = ", ".join(m.name for m in models)
    return Report(
        title=title or f"Digit Lab report: {names}",
        data_description=data.description,
        test_images=data.x_test,
        models=tuple(models),
        comparison=comparison,
        disputed=disputed_test_indices(data),
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


# ---- writing -------------------------------------------------------------------------------------------


class _Figures:
    """Turns figures into HTML divs; only the first one carries plotly.js."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, figure: go.Figure, height: int | None = None) -> str:
        first = self.count == 0
        self.count += 1
        div = figure.to_html(
            full_html=False,
            include_plotlyjs=first,  # inlined once; 'cdn' would not open offline
            config=PLOTLY_CONFIG,
            default_width="100%",
            default_height=f"{height or figure.layout.height or 450}px",
        )
        return f'<div class="chart">{div}</div>'


def render_html(report: Report) -> str:
    """The whole report as one HTML document."""
    chart = _Figures()
    body: list[str] = [
        f"<h1>{_e(report.title)}</h1>",
        f'<p class="meta">Test set: {_e(report.data_description)} ({len(report.test_images):,} images) · '
        f"written {_e(report.created)} by Digit Lab · opens offline: every chart and image is in this file.</p>",
        _contents(report),
    ]
    if report.comparison is not None:
        body.append(_comparison_section(report, chart))
    for index, model in enumerate(report.models):
        body.append(_model_section(report, model, index, chart))
    return _PAGE.format(title=_e(report.title), style=_STYLE, body="\n".join(body))


def _contents(report: Report) -> str:
    items = []
    if report.comparison is not None:
        items.append('<li><a href="#comparison">Comparison</a></li>')
    for index, model in enumerate(report.models):
        items.append(f'<li><a href="#model-{index}">{_e(model.name)}</a></li>')
    return f"<nav><ul>{''.join(items)}</ul></nav>"


def _comparison_section(report: Report, chart: _Figures) -> str:
    comparison = report.comparison
    rows = [
        {
            "model": s.name,
            "test accuracy": f"{s.accuracy:.2%}",
            "95 % interval": f"{s.low:.2%} – {s.high:.2%}",
            "macro F1": f"{s.macro_f1:.4f}",
            "errors": f"{s.errors:,} / {s.count:,}",
            "parameters": "n/a" if s.parameters is None else f"{s.parameters:,}",
            "training": "n/a" if s.training_seconds is None else f"{s.training_seconds:.1f} s",
            "epochs": "n/a" if s.epochs is None else str(s.epochs),
        }
        for s in comparison.scores
    ]
    title = "McNemar's test per pair" + (" (p-values Holm-corrected)" if comparison.corrected else "")
    tests = "".join(
        f"<li>{_e(pair.first)} vs {_e(pair.second)}: only the first right on {pair.test.first_only}, only the "
        f"second on {pair.test.second_only} ({_e(pair.test.method)}, {_e(p_phrase(pair.p_adjusted))}). "
        f"<strong>{_e(pair.sentence)}</strong></li>"
        for pair in comparison.tests
    )
    parts = [
        '<section id="comparison"><h2>Comparison</h2>',
        "<p>Accuracy with its 95 % Wilson interval. Two accuracies on the same images are not independent, so "
        "McNemar's test looks only at the images on which two models differ.</p>",
        _table(pd.DataFrame(rows)),
        f"<h3>{_e(title)}</h3><ul>{tests}</ul>",
    ]
    histories = {m.name: m.record.history for m in report.models if m.record is not None and m.record.history}
    if len(histories) > 1:
        colours = {name: figures.MODEL_COLOURS[i % len(figures.MODEL_COLOURS)] for i, name in enumerate(histories)}
        parts += ["<h3>Validation curves</h3>", chart(figures.overlaid_curves(histories, colours))]
    measured = {m.name: m.robustness for m in report.models if m.robustness is not None}
    if len(measured) > 1 and len({curves.images for curves in measured.values()}) == 1:
        parts += [
            "<h3>Robustness</h3>",
            f"<p>Accuracy against each perturbation's severity, on {next(iter(measured.values())).images:,} "
            "test images.</p>",
            chart(figures.curves_figure(measured)),
        ]
    parts.append("</section>")
    return "\n".join(parts)


def _model_section(report: Report, model: ModelReport, index: int, chart: _Figures) -> str:
    evaluation = model.evaluation
    parts = [
        f'<section id="model-{index}"><h2>{_e(model.name)}</h2>',
        f'<p class="headline">Test accuracy <strong>{evaluation.accuracy:.2%}</strong> · macro F1 '
        f"{evaluation.report.loc['macro avg', 'f1-score']:.4f} · {evaluation.errors:,} errors in "
        f"{len(evaluation.labels):,} test images</p>",
        "<h3>Configuration and data</h3>",
        _configuration(model),
        "<h3>Training curves</h3>",
    ]
    record = model.record
    if record is not None and record.history:
        parts.append(chart(figures.training_curves(record.history, record.best_epoch, record.stopped_epoch)))
        parts.append('<p class="note">Dashed green: the epoch whose weights were kept. Dotted grey: the last.</p>')
    else:
        parts.append(f'<p class="note">{_e(_no_history_reason(model))}</p>')
    parts += [
        "<h3>Metrics per digit</h3>",
        _table(evaluation.report.reset_index(names="digit").round(4)),
        "<h3>Confusion matrix</h3>",
        chart(figures.confusion_heatmap(evaluation.confusion, normalised=False), height=520),
        _confused_pairs(evaluation),
        "<h3>Top errors</h3>",
        f'<p class="note">The {TOP_ERRORS} mistakes made with the most confidence: true → predicted (confidence).</p>',
        _error_gallery(report, evaluation),
    ]
    if model.calibration is not None:
        parts.append(_calibration(model, chart))
    if model.label_issues is not None:
        parts.append(_suspects(report, model.label_issues))
    if model.robustness is not None:
        curves = model.robustness
        parts += [
            "<h3>Robustness</h3>",
            f"<p>Accuracy against each perturbation's severity, on {curves.images:,} test images "
            f"(clean: {curves.clean_accuracy:.2%}).</p>",
            chart(figures.curves_figure({model.name: curves})),
        ]
    parts.append("</section>")
    return "\n".join(parts)


def _configuration(model: ModelReport) -> str:
    record = model.record
    facts: dict[str, object] = {}
    if model.description:
        facts["model"] = model.description
    if model.members:
        facts["members"] = ", ".join(model.members)
    if record is not None:
        facts.update({key: value for key, value in record.config.to_dict().items() if value not in ("", None)})
        facts.update(
            {
                "data source": record.data.description,
                "training images": record.data.train_used,
                "validation images": record.data.validation,
                "test images": record.data.test,
                "parameters": record.parameters,
                "epochs run": f"{record.stopped_epoch} (best {record.best_epoch})",
                "training time": f"{record.training_seconds:.1f} s",
                "created": record.created,
                "run id": record.run_id,
                **{f"{name} version": version for name, version in record.versions.items()},
            }
        )
    rows = "".join(
        f"<tr><th>{_e(key)}</th><td>{_e(_plain(value))}</td></tr>" for key, value in facts.items() if value is not None
    )
    return f'<table class="facts">{rows}</table>'


def _no_history_reason(model: ModelReport) -> str:
    if model.members:
        return "An ensemble has no training history of its own; see its members' reports."
    return "This model has no training history (it was not trained here)."


def _confused_pairs(evaluation: Evaluation) -> str:
    pairs = most_confused_pairs(evaluation.confusion, top=5)
    if not pairs:
        return '<p class="note">No errors.</p>'
    errors = max(1, evaluation.errors)
    items = "".join(
        f"<li>{p.true} taken for {p.predicted}: {p.count} images ({p.count / errors:.0%} of the errors, "
        f"{p.share_of_true:.1%} of the {p.true}s)</li>"
        for p in pairs
    )
    return f"<p>Most confused:</p><ul>{items}</ul>"


def _error_gallery(report: Report, evaluation: Evaluation) -> str:
    indices = misclassified(evaluation)[:TOP_ERRORS]
    if len(indices) == 0:
        return '<p class="note">No errors.</p>'
    tiles = [
        _tile(
            report,
            index,
            f"{evaluation.labels[index]} → {evaluation.predictions[index]} ({evaluation.confidences[index]:.0%})",
        )
        for index in indices
    ]
    return f'<div class="gallery">{"".join(tiles)}</div>'


def _tile(report: Report, index: int, caption: str) -> str:
    disputed = f'<br><span class="disputed">{DISPUTED_NOTE}</span>' if int(index) in report.disputed else ""
    return (
        f'<figure><img src="{png_data_uri(report.test_images[index])}" alt="test image {int(index)}">'
        f"<figcaption>#{int(index)}<br>{_e(caption)}{disputed}</figcaption></figure>"
    )


def _calibration(model: ModelReport, chart: _Figures) -> str:
    evaluation, temperature = model.evaluation, model.calibration.temperature
    before = calibration_report(evaluation.probabilities, evaluation.labels)
    after = calibration_report(evaluation.probabilities, evaluation.labels, temperature)
    table = pd.DataFrame(
        [
            _calibration_row("model's own probabilities (T = 1)", before),
            _calibration_row(f"T = {temperature:.3f}", after),
        ]
    )
    where = f" fitted on {model.calibration_source}" if model.calibration_source else ""
    return "\n".join(
        [
            "<h3>Calibration</h3>",
            f"<p>Does a confidence of 90 % mean right 9 times in 10? On the test set, before and after temperature "
            f"scaling (T = {temperature:.3f}{_e(where)}; the predicted digits do not change).</p>",
            _table(table),
            '<div class="pair">',
            chart(figures.reliability_diagram(before, "The model's own probabilities (T = 1)", height=420)),
            chart(figures.reliability_diagram(after, f"Temperature-scaled (T = {temperature:.2f})", height=420)),
            "</div>",
        ]
    )


def _calibration_row(name: str, report: CalibrationReport) -> dict:
    return {
        "probabilities": name,
        "ECE": f"{report.ece:.2%}",
        "MCE": f"{report.mce:.2%}",
        "log-loss": f"{report.nll:.4f}",
        "Brier": f"{report.brier:.4f}",
        "mean confidence": f"{report.mean_confidence:.2%}",
    }


def _suspects(report: Report, issues: LabelIssues) -> str:
    indices = issues.top(TOP_SUSPECTS)
    tiles = [
        _tile(
            report,
            index,
            f"given {issues.labels[index]}, model says {issues.predictions[index]} (score {issues.scores[index]:.3f})",
        )
        for index in indices
    ]
    disputed_note = ""
    if report.disputed:
        found = sum(int(i) in report.disputed for i in issues.top(100))
        disputed_note = f" {found} of the {len(report.disputed)} test labels human raters disputed are in its top 100."
    return "\n".join(
        [
            "<h3>Label-issue suspects</h3>",
            f"<p>The test images whose given label the model finds least likely (cleanlab's self-confidence; "
            f"{issues.flagged_count:,} flagged in all).{_e(disputed_note)}</p>",
            f'<div class="gallery">{"".join(tiles)}</div>',
        ]
    )


def _table(table: pd.DataFrame) -> str:
    return table.to_html(index=False, border=0, classes="data", escape=True)


def _plain(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _e(text: object) -> str:
    return html.escape(str(text))


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 1rem 1.5rem 4rem; color: #212529; line-height: 1.45; }
h1 { font-size: 1.7rem; } h2 { border-bottom: 2px solid #dee2e6; margin-top: 2.5rem; } h3 { margin-top: 1.8rem; }
.meta, .note { color: #495057; font-size: 0.92rem; }
.headline { font-size: 1.1rem; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 0.5rem 0; }
th, td { border: 1px solid #dee2e6; padding: 0.25rem 0.6rem; text-align: left; }
table.data th { background: #f1f3f5; }
table.facts th { background: #f8f9fa; font-weight: 500; }
.gallery { display: flex; flex-wrap: wrap; gap: 0.5rem; }
.gallery figure { margin: 0; width: 92px; text-align: center; font-size: 0.72rem; }
.gallery img { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #ced4da; }
.disputed { color: #c92a2a; font-weight: 600; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
@media (max-width: 900px) { .pair { grid-template-columns: 1fr; } }
nav ul { display: flex; flex-wrap: wrap; gap: 1rem; padding: 0; list-style: none; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
{body}
</body>
</html>
"""


# ---- saved runs ----------------------------------------------------------------------------------------


def temperature_of(model: keras.Model, runs: Sequence[RunInfo], data: MnistData) -> tuple[TemperatureScaling, str]:
    """A run's recorded temperature, else one fitted on held-out images (never the test set), and where."""
    if len(runs) == 1 and runs[0].record.calibration is not None:
        scaling = runs[0].record.calibration
        return scaling, f"the validation split this run held out in training ({scaling.images:,} images)"
    fit_images = images_to_fit_on(tuple(runs), data)
    return fit_model_temperature(model, fit_images), fit_images.description


def run_model_report(
    store: RunStore, info: RunInfo, data: MnistData, robustness_images: int | None = 0, name: str | None = None
) -> ModelReport:
    """A saved run's report: its record, its calibration, its analyses."""
    model = store.load_model(info.run_id)
    scaling, where = temperature_of(model, [info], data)
    return analyse_model(
        name or info.run_id,
        model,
        data,
        record=info.record,
        calibration=scaling,
        calibration_source=where,
        robustness_images=robustness_images,
    )


def ensemble_model_report(
    store: RunStore, infos: Sequence[RunInfo], data: MnistData, robustness_images: int | None = 0
) -> ModelReport:
    """The average of several saved runs' probabilities, reported as one model."""
    model = build_ensemble([store.load_model(info.run_id) for info in infos])
    scaling, where = temperature_of(model, infos, data)
    return analyse_model(
        f"ensemble of {len(infos)}",
        model,
        data,
        members=[info.run_id for info in infos],
        description=f"the average of {len(infos)} runs' probabilities",
        calibration=scaling,
        calibration_source=where,
        robustness_images=robustness_images,
    )


def report_size_note(text: str) -> str:
    """The file's size, and a warning past the target (an e-mail attachment's comfortable size)."""
    size = len(text.encode("utf-8"))
    note = f"{size / 1024 / 1024:.1f} MB"
    if size > SIZE_TARGET_BYTES:
        note += f" (over the {SIZE_TARGET_BYTES / 1024 / 1024:.0f} MB target: fewer models make it smaller)"
    return note
