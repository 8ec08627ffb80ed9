"""Plotly figures for the pages; each takes plain arrays or tables and returns a figure."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

# Drawn by the HTML report too, so they live in core (no Streamlit there); the pages keep importing them from here.
from core.figures import (  # noqa: F401
    DIGITS,
    TRAIN_COLOUR,
    VALIDATION_COLOUR,
    class_metric_bars,
    training_curves,
)


def live_curves(history: Sequence[dict]) -> go.Figure:
    """A small loss chart for the sidebar while training runs."""
    epochs = [row["epoch"] for row in history]
    figure = go.Figure()
    figure.add_scatter(x=epochs, y=[r.get("loss") for r in history], name="train", line_color=TRAIN_COLOUR)
    figure.add_scatter(
        x=epochs, y=[r.get("val_loss") for r in history], name="validation", line_color=VALIDATION_COLOUR
    )
    figure.update_layout(
        height=180,
        margin=dict(l=0, r=0, t=24, b=0),
        title=dict(text="loss per epoch", font_size=12),
        legend=dict(orientation="h", y=-0.3),
        xaxis=dict(dtick=1),
    )
    return figure


def probability_bars(probabilities: np.ndarray, true_label: int | None = None, height: int = 260) -> go.Figure:
    """The model's probability per digit; the predicted bar stands out, the true one is outlined."""
    predicted = int(np.argmax(probabilities))
    colours = ["#3b5bdb" if d == predicted else "#adb5bd" for d in range(10)]
    outlines = [3 if d == true_label else 0 for d in range(10)]
    figure = go.Figure(
        go.Bar(
            x=DIGITS,
            y=probabilities,
            marker=dict(color=colours, line=dict(width=outlines, color="#2f9e44")),
            text=[f"{p:.0%}" if p >= 0.01 else "" for p in probabilities],
            textposition="outside",
            hovertemplate="digit %{x}: %{y:.2%}<extra></extra>",
        )
    )
    figure.update_layout(
        height=height,
        margin=dict(t=10, b=10, l=10, r=10),
        yaxis=dict(range=[0, 1.15], tickformat=".0%"),
        xaxis=dict(title="digit", type="category"),
    )
    return figure


def image_mosaic(
    images: np.ndarray,
    diverging: bool,
    unit_label: str,
    columns: int | None = None,
    tile_height: int = 70,
    height: int | None = None,
) -> go.Figure:
    """Many small images (weights, kernels, feature maps) as one heatmap; hover names the image.

    Without `columns`, 8 per row (16 beyond 32 images); without `height`, `tile_height` per row.
    """
    columns = columns or (16 if len(images) > 32 else 8)
    height = height or tile_height * int(np.ceil(len(images) / columns)) + 40
    mosaic, owner = tile_images(images, columns)
    if diverging:
        limit = float(np.nanmax(np.abs(mosaic))) or 1.0
        # Red for positive weights, blue for negative, as the pages explain ("RdBu" is the reverse).
        colour = dict(colorscale="RdBu_r", zmid=0, zmin=-limit, zmax=limit)
    else:
        colour = dict(colorscale="Viridis")
    figure = go.Figure(
        go.Heatmap(
            z=mosaic,
            customdata=owner,
            hovertemplate=f"{unit_label} %{{customdata}}<br>value %{{z:.3f}}<extra></extra>",
            hoverongaps=False,
            **colour,
        )
    )
    figure.update_layout(height=height, margin=dict(t=10, b=10, l=10, r=10))
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    return figure


def unit_heatmap(values: np.ndarray, title: str) -> go.Figure:
    """A dense layer's activations for one image as a grid of units."""
    count = values.size
    columns = int(np.ceil(np.sqrt(count * 2)))
    rows = int(np.ceil(count / columns))
    grid = np.full(rows * columns, np.nan)
    grid[:count] = values.ravel()
    index = np.arange(rows * columns).reshape(rows, columns)
    figure = go.Figure(
        go.Heatmap(
            z=grid.reshape(rows, columns),
            customdata=index,
            colorscale="Viridis",
            hoverongaps=False,
            hovertemplate="unit %{customdata}: %{z:.3f}<extra></extra>",
        )
    )
    figure.update_layout(height=max(120, 28 * rows + 40), margin=dict(t=30, b=5, l=5, r=5), title=title)
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, autorange="reversed")
    return figure


def digit_bars(values: np.ndarray, y_title: str, height: int = 240) -> go.Figure:
    """One value per digit as bars, e.g. a unit's mean activation per digit."""
    figure = go.Figure(
        go.Bar(
            x=DIGITS,
            y=values,
            marker_color="#3b5bdb",
            hovertemplate=f"digit %{{x}}<br>{y_title} %{{y:.3f}}<extra></extra>",
        )
    )
    figure.update_layout(
        height=height,
        margin=dict(t=10, b=10, l=10, r=10),
        xaxis=dict(title="digit", type="category"),
        yaxis_title=y_title,
    )
    return figure


def tile_images(images: np.ndarray, columns: int, gap: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Arrange (n, h, w) images in a grid separated by NaN gaps.

    Returns the mosaic and, per mosaic pixel, the index of the image it belongs to (-1 in gaps).
    """
    count, height, width = images.shape
    rows = int(np.ceil(count / columns))
    shape = (rows * (height + gap) - gap, columns * (width + gap) - gap)
    mosaic = np.full(shape, np.nan, dtype=np.float32)
    owner = np.full(shape, -1, dtype=np.int32)
    for index, image in enumerate(images):
        top, left = (index // columns) * (height + gap), (index % columns) * (width + gap)
        mosaic[top : top + height, left : left + width] = image
        owner[top : top + height, left : left + width] = index
    return mosaic, owner
