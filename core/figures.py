"""Plotly figures drawn by both the dashboard's pages and the HTML report (core/report.py).

They take plain arrays, tables and analysis results and return a figure; nothing here imports
Streamlit, so a report built on the command line draws exactly the dashboard's charts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.analysis.perturbations import BY_NAME
from core.analysis.robustness import RobustnessCurves

if TYPE_CHECKING:  # TensorFlow and pandas: the sidebar's charts show without them (pandas takes ~0.7 s)
    import pandas as pd

    from core.analysis.calibration import CalibrationReport

TRAIN_COLOUR, VALIDATION_COLOUR = "#3b5bdb", "#e8590c"
DIGITS = [str(d) for d in range(10)]
ACCURACY_COLOUR, GAP_COLOUR, COUNT_COLOUR = "#3b5bdb", "rgba(224, 49, 49, 0.35)", "#868e96"
ROBUSTNESS_COLUMNS = 4
MODEL_COLOURS = ("#3b5bdb", "#e8590c", "#2f9e44", "#ae3ec9")


def training_curves(history: Sequence[dict], best_epoch: int | None, stopped_epoch: int | None) -> go.Figure:
    """Loss and accuracy per epoch, training vs validation, with best and stopping epochs marked."""
    import pandas as pd

    table = pd.DataFrame(history)
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.1)
    for column, (metric, label) in enumerate((("loss", "loss"), ("accuracy", "accuracy")), start=1):
        for prefix, name, colour in (
            ("", "training", TRAIN_COLOUR),
            ("val_", "validation", VALIDATION_COLOUR),
        ):
            if prefix + metric in table:
                figure.add_scatter(
                    x=table["epoch"],
                    y=table[prefix + metric],
                    name=name,
                    mode="lines+markers",
                    line_color=colour,
                    legendgroup=name,
                    showlegend=column == 1,
                    hovertemplate=f"epoch %{{x}}<br>{name} {label} %{{y:.4f}}<extra></extra>",
                    row=1,
                    col=column,
                )
        if best_epoch:
            figure.add_vline(x=best_epoch, line_dash="dash", line_color="green", row=1, col=column)
        if stopped_epoch and stopped_epoch != best_epoch:
            figure.add_vline(x=stopped_epoch, line_dash="dot", line_color="grey", row=1, col=column)
    figure.update_xaxes(title_text="epoch", dtick=1 if len(table) <= 20 else None)
    figure.update_layout(height=400, margin=dict(t=40, b=10), legend=dict(orientation="h", y=1.15))
    return figure


def class_metric_bars(report: pd.DataFrame) -> go.Figure:
    """Precision, recall and F1 per digit as grouped bars."""
    per_class = report.loc[DIGITS]
    figure = go.Figure()
    for metric, colour in (("precision", "#3b5bdb"), ("recall", "#e8590c"), ("f1-score", "#2f9e44")):
        figure.add_bar(
            x=DIGITS,
            y=per_class[metric],
            name=metric,
            marker_color=colour,
            hovertemplate=f"digit %{{x}}<br>{metric} %{{y:.4f}}<extra></extra>",
        )
    low = float(per_class[["precision", "recall", "f1-score"]].min().min())
    figure.update_layout(
        barmode="group",
        height=360,
        margin=dict(t=30, b=10),
        xaxis=dict(title="digit", type="category"),  # else Plotly labels only the even digits
        yaxis=dict(range=[max(0.0, low - 0.05), 1.0], title="score"),
        legend=dict(orientation="h", y=1.12),
    )
    return figure


def confusion_heatmap(confusion: np.ndarray, normalised: bool) -> go.Figure:
    """Confusion matrix (rows true, columns predicted); the hover shows count and row share."""
    counts = np.asarray(confusion)
    row_totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, row_totals, out=np.zeros(counts.shape, dtype=float), where=row_totals > 0)
    values = shares if normalised else counts
    text = [
        [f"{s:.1%}" if normalised else f"{c}" for c, s in zip(cr, sr, strict=True)]
        for cr, sr in zip(counts, shares, strict=True)
    ]
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=DIGITS,
            y=DIGITS,
            colorscale="Blues",
            text=text,
            texttemplate="%{text}",
            customdata=np.dstack([counts, shares]),
            hovertemplate="true %{y} → predicted %{x}<br>count %{customdata[0]}<br>"
            "share of true %{y}: %{customdata[1]:.2%}<extra></extra>",
            colorbar=dict(title="share" if normalised else "count"),
        )
    )
    figure.update_layout(
        height=520,
        margin=dict(t=10, b=10),
        xaxis=dict(title="predicted", side="top", type="category"),
        yaxis=dict(title="true", autorange="reversed", type="category", scaleanchor="x"),
    )
    return figure


def reliability_diagram(report: CalibrationReport, title: str, height: int = 480) -> go.Figure:
    """Accuracy per confidence bin against the diagonal of perfect calibration, the gap to each bin's
    mean confidence in red, and below it how many images each bin holds (a log scale: on MNIST almost
    all of them sit in the last bin)."""
    bins = report.reliability
    filled = bins.counts > 0
    lower, upper = bins.edges[:-1][filled], bins.edges[1:][filled]
    centres, width = (lower + upper) / 2, float(bins.edges[1] - bins.edges[0])
    accuracy, confidence, counts = bins.accuracy[filled], bins.mean_confidence[filled], bins.counts[filled]
    details = np.column_stack([lower, upper, confidence, accuracy, counts])
    hover = (
        "confidence %{customdata[0]:.2f}–%{customdata[1]:.2f}<br>%{customdata[4]:,} images<br>"
        "accuracy %{customdata[3]:.2%}<br>mean confidence %{customdata[2]:.2%}<extra></extra>"
    )
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.06)
    figure.add_scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        line=dict(dash="dash", color="#495057", width=1),
        name="perfectly calibrated",
        hoverinfo="skip",
        row=1,
        col=1,
    )
    figure.add_bar(
        x=centres,
        y=accuracy,
        width=width * 0.95,
        name="accuracy",
        marker_color=ACCURACY_COLOUR,
        customdata=details,
        hovertemplate=hover,
        row=1,
        col=1,
    )
    figure.add_bar(
        x=centres,
        y=confidence - accuracy,
        base=accuracy,
        width=width * 0.95,
        name="gap to mean confidence",
        marker=dict(color=GAP_COLOUR, line=dict(color="#e03131", width=1)),
        customdata=details,
        hovertemplate=hover,
        row=1,
        col=1,
    )
    figure.add_bar(
        x=centres,
        y=counts,
        width=width * 0.95,
        name="images per bin",
        marker_color=COUNT_COLOUR,
        text=[f"{count:,}" for count in counts],
        textposition="outside",
        textfont_size=10,
        customdata=details,
        hovertemplate=hover,
        showlegend=False,
        row=2,
        col=1,
    )
    figure.update_layout(
        barmode="overlay",
        height=height,
        margin=dict(t=60, b=10, l=10, r=10),
        title=dict(text=f"{title} · ECE {report.ece:.2%}", font_size=15),
        legend=dict(orientation="h", y=1.1, x=0),
    )
    figure.update_xaxes(range=[0, 1], dtick=0.1)
    figure.update_xaxes(title_text="confidence (probability of the predicted digit)", row=2, col=1)
    figure.update_yaxes(title_text="accuracy", range=[0, 1.02], tickformat=".0%", row=1, col=1)
    top = max(10.0, float(counts.max()) * 8) if len(counts) else 10.0  # room for the labels on a log axis
    figure.update_yaxes(title_text="images", type="log", range=[0, np.log10(top)], row=2, col=1)
    return figure


def curves_figure(results: dict[str, RobustnessCurves]) -> go.Figure:
    """Accuracy (y) against severity in each perturbation's own unit (x); the active model first."""
    names = list(next(iter(results.values())).curves)
    rows = -(-len(names) // ROBUSTNESS_COLUMNS)
    titles = [f"{BY_NAME[name].label} ({BY_NAME[name].unit})" for name in names]
    figure = make_subplots(rows=rows, cols=ROBUSTNESS_COLUMNS, subplot_titles=titles, vertical_spacing=0.16)
    for position, name in enumerate(names):
        row, column = divmod(position, ROBUSTNESS_COLUMNS)
        for index, (label, curves) in enumerate(results.items()):
            severities, accuracies = zip(*curves.curves[name], strict=True)
            figure.add_trace(
                go.Scatter(
                    x=severities,
                    y=accuracies,
                    mode="lines+markers",
                    name=label,
                    legendgroup=label,
                    showlegend=position == 0,
                    line=dict(color=MODEL_COLOURS[index % len(MODEL_COLOURS)]),
                    hovertemplate=f"{label}<br>%{{x:g}} {BY_NAME[name].unit}: %{{y:.1%}}<extra></extra>",
                ),
                row=row + 1,
                col=column + 1,
            )
    figure.update_yaxes(range=[0, 1.02], tickformat=".0%")
    figure.update_layout(
        height=280 * rows + 60, margin=dict(t=40, b=20, l=10, r=10), legend=dict(orientation="h", y=-0.08)
    )
    return figure


def overlaid_curves(histories: Mapping[str, Sequence[dict]], colours: Mapping[str, str]) -> go.Figure:
    """Validation loss and accuracy per epoch of each model (solid), training dotted in the same colour."""
    import pandas as pd

    figure = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.1)
    for name, history in histories.items():
        table = pd.DataFrame(history)
        for column, metric in enumerate(("loss", "accuracy"), start=1):
            for prefix, dash, split in (("val_", "solid", "validation"), ("", "dot", "training")):
                if prefix + metric not in table:
                    continue
                figure.add_scatter(
                    x=table["epoch"],
                    y=table[prefix + metric],
                    name=name if split == "validation" else f"{name} (training)",
                    mode="lines+markers",
                    line=dict(color=colours[name], dash=dash),
                    marker=dict(size=5),
                    legendgroup=name,
                    showlegend=column == 1 and split == "validation",
                    hovertemplate=f"{name}<br>epoch %{{x}}<br>{split} {metric} %{{y:.4f}}<extra></extra>",
                    row=1,
                    col=column,
                )
    figure.update_xaxes(
        title_text="epoch", dtick=1 if max((len(h) for h in histories.values()), default=0) <= 20 else None
    )
    figure.update_layout(height=380, margin=dict(t=40, b=10), legend=dict(orientation="h", y=-0.2))
    return figure
