"""Plotly figures of the Compare page: overlaid training curves and per-digit metric differences."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from core.figures import DIGITS, overlaid_curves  # noqa: F401  (overlaid_curves: drawn by the HTML report too)

PALETTE = qualitative.D3  # one colour per compared model, the same in every chart


def colour_of(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def class_difference_bars(
    differences: pd.DataFrame, metric: str, reference: str, colours: Mapping[str, str]
) -> go.Figure:
    """Per digit, each model's `metric` minus the reference model's: above zero, better on that digit."""
    figure = go.Figure()
    rows = differences[differences["metric"] == metric]
    for name, group in rows.groupby("model", sort=False):
        group = group.set_index("digit").reindex(DIGITS)
        figure.add_bar(
            x=DIGITS,
            y=group["difference"],
            name=str(name),
            marker_color=colours[str(name)],
            customdata=group["value"],
            hovertemplate=f"{name}<br>digit %{{x}}<br>{metric} %{{customdata:.4f}} (%{{y:+.4f}})<extra></extra>",
        )
    figure.add_hline(y=0, line_color="#495057", line_width=1)
    figure.update_layout(
        barmode="group",
        height=340,
        margin=dict(t=30, b=10),
        xaxis=dict(title="digit", type="category"),
        yaxis=dict(title=f"{metric} minus {reference}", tickformat="+.3f", zeroline=True),
        legend=dict(orientation="h", y=1.12),
    )
    return figure
