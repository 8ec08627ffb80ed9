"""Plotly figures of the Studies page: best-so-far against time, and parameter importances."""

from __future__ import annotations

import plotly.graph_objects as go

from core.analysis.studies import Importances, StudyOverview

TRIAL_COLOUR, BEST_COLOUR = "#adb5bd", "#e8590c"


def best_so_far(overview: StudyOverview) -> go.Figure:
    """Each complete trial's validation accuracy at the time it completed, and the best so far as a step line."""
    completions = overview.completions
    times = [c.completed for c in completions]
    figure = go.Figure()
    figure.add_scatter(
        x=times,
        y=[c.value for c in completions],
        mode="markers",
        name="trial",
        marker=dict(color=TRIAL_COLOUR, size=7),
        customdata=[c.number for c in completions],
        hovertemplate="trial %{customdata}<br>%{y:.2%}<br>%{x}<extra></extra>",
    )
    figure.add_scatter(
        x=times,
        y=[c.best_so_far for c in completions],
        mode="lines",
        line=dict(color=BEST_COLOUR, shape="hv", width=2),
        name="best so far",
        hovertemplate="best so far %{y:.2%}<extra></extra>",
    )
    figure.update_layout(
        height=320,
        margin=dict(l=0, r=0, t=30, b=0),
        title=dict(text="Validation accuracy of complete trials, by completion time", font_size=13),
        yaxis=dict(tickformat=".1%", title="validation accuracy"),
        xaxis=dict(title="completed at"),
        legend=dict(orientation="h", y=-0.25),
    )
    return figure


def importances(values: Importances) -> go.Figure:
    """Horizontal bars, most important at the top."""
    names = [name for name, _ in values.values][::-1]
    shares = [share for _, share in values.values][::-1]
    figure = go.Figure(go.Bar(x=shares, y=names, orientation="h", marker_color=BEST_COLOUR))
    figure.update_layout(
        height=60 + 28 * len(names),
        margin=dict(l=0, r=0, t=30, b=0),
        title=dict(text="Parameter importance (share of the variation in validation accuracy)", font_size=13),
        xaxis=dict(tickformat=".0%", range=[0, 1]),
    )
    return figure
