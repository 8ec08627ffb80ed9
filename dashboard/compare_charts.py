"""Plotly figures of the Compare page: overlaid training curves and per-digit metric differences."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

PALETTE = qualitative.D3  # one colour per compared model, the same in every chart
DIGITS = [str(d) for d in range(10)]


def colour_of(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def overlaid_curves(histories: Mapping[str, Sequence[dict]], colours: Mapping[str, str]) -> go.Figure:
    """Validation loss and accuracy per epoch of each model (solid), training dotted in the same colour."""
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
