"""Plotly figures of the Calibration page: the reliability diagram with its counts, accuracy against coverage."""

from __future__ import annotations

import plotly.graph_objects as go

from core.analysis.calibration import CoverageCurve, SelectivePrediction
from core.figures import reliability_diagram  # noqa: F401  (drawn by the HTML report too)

RAW_COLOUR, CALIBRATED_COLOUR = "#e8590c", "#2f9e44"


def accuracy_coverage(
    curves: dict[str, CoverageCurve], chosen: SelectivePrediction, chosen_curve: str, height: int = 380
) -> go.Figure:
    """Accuracy on the answered images against the share answered, one line per set of probabilities,
    with the user's threshold marked on `chosen_curve`."""
    colours = [RAW_COLOUR, CALIBRATED_COLOUR]
    figure = go.Figure()
    for (name, curve), colour in zip(curves.items(), colours, strict=False):
        figure.add_scatter(
            x=curve.coverage,
            y=curve.accuracy,
            mode="lines",
            name=name,
            line=dict(color=colour, width=2, dash="solid" if name == chosen_curve else "dot"),
            customdata=curve.thresholds,
            hovertemplate="threshold %{customdata:.4f}<br>answered %{x:.1%}<br>accuracy %{y:.2%}"
            f"<extra>{name}</extra>",
        )
    if chosen.answered:
        figure.add_scatter(
            x=[chosen.coverage],
            y=[chosen.accuracy],
            mode="markers+text",
            name=f"threshold {chosen.threshold:.2f}",
            marker=dict(size=12, color="#212529", symbol="diamond"),
            text=[f"threshold {chosen.threshold:.2f}"],
            textposition="bottom left",
            hovertemplate="answered %{x:.1%}<br>accuracy %{y:.2%}<extra>your threshold</extra>",
        )
    figure.update_layout(
        height=height,
        margin=dict(t=30, b=10, l=10, r=10),
        xaxis=dict(title="share of test images answered (coverage)", tickformat=".0%", range=[0, 1.02]),
        yaxis=dict(title="accuracy on the answered images", tickformat=".1%"),
        legend=dict(orientation="h", y=1.12, x=0),
    )
    return figure
