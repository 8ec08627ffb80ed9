"""Robustness curves as small multiples: one panel per perturbation, one line per model."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.analysis.perturbations import BY_NAME
from core.analysis.robustness import RobustnessCurves

COLUMNS = 4
MODEL_COLOURS = ("#3b5bdb", "#e8590c", "#2f9e44", "#ae3ec9")


def curves_figure(results: dict[str, RobustnessCurves]) -> go.Figure:
    """Accuracy (y) against severity in each perturbation's own unit (x); the active model first."""
    names = list(next(iter(results.values())).curves)
    rows = -(-len(names) // COLUMNS)
    titles = [f"{BY_NAME[name].label} ({BY_NAME[name].unit})" for name in names]
    figure = make_subplots(rows=rows, cols=COLUMNS, subplot_titles=titles, vertical_spacing=0.16)
    for position, name in enumerate(names):
        row, column = divmod(position, COLUMNS)
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


def curves_table(results: dict[str, RobustnessCurves]) -> pd.DataFrame:
    """One row per perturbation and severity (clean once, first), one column per model."""
    columns = {}
    for label, curves in results.items():
        values = {}
        for name, severity, accuracy in curves.rows():
            perturbation = BY_NAME[name]
            row = ("clean", "0") if severity == 0 else (perturbation.label, f"{severity:g} {perturbation.unit}")
            values[row] = accuracy
        columns[label] = values
    table = pd.DataFrame(columns)
    table.index = pd.MultiIndex.from_tuples(table.index, names=["perturbation", "severity"])
    return table
