"""Plotly figures of the Calibration page: the reliability diagram with its counts, accuracy against coverage."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.analysis.calibration import CalibrationReport, CoverageCurve, SelectivePrediction

ACCURACY_COLOUR, GAP_COLOUR, COUNT_COLOUR = "#3b5bdb", "rgba(224, 49, 49, 0.35)", "#868e96"
RAW_COLOUR, CALIBRATED_COLOUR = "#e8590c", "#2f9e44"


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
