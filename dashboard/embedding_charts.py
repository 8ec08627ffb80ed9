"""The embedding map as an Altair chart: Vega's tooltip shows a digit image, Plotly's cannot (plotly.py #4905).

A tooltip field named `image` holding a data URI is drawn as the image by vega-tooltip, so hovering
a point shows its test digit without any request to the server.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.analysis.embedding import EmbeddingMap
from core.disputed_labels import DISPUTED_NOTE

# Tableau 10: ten hues told apart by most viewers, and the legend maps each to its digit.
DIGIT_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
CORRECT, ERROR = "correct", "misclassified"
PICK_PARAM = "picked"  # a click (shift-click adds) picks points
BOX_PARAM = "box"  # a drag draws a box around points
POINT_SIZE = 30
ERROR_SIZE = 70
DRAWN_SIZE = 500


def map_frame(embedding_map: EmbeddingMap, thumbnails: list[str], disputed: frozenset[int]) -> pd.DataFrame:
    """One row per point: position, test index, true and predicted digit, outcome, image and any note.

    Errors come last, so they are drawn over the correct points around them.
    """
    indices = embedding_map.indices.astype(int)
    frame = pd.DataFrame(
        {
            "x": embedding_map.coordinates[:, 0],
            "y": embedding_map.coordinates[:, 1],
            "index": indices,
            "digit": embedding_map.labels.astype(int).astype(str),
            "predicted": embedding_map.predictions.astype(int),
            "outcome": np.where(embedding_map.errors, ERROR, CORRECT),
            "image": thumbnails,
            "note": [DISPUTED_NOTE if int(index) in disputed else "" for index in indices],
        }
    )
    return frame.sort_values("outcome", kind="stable", key=lambda o: o == ERROR).reset_index(drop=True)


def embedding_scatter(
    frame: pd.DataFrame, method: str, drawn: tuple[float, float] | None = None, height: int = 520
) -> alt.LayerChart | alt.Chart:
    """Points coloured by true digit, errors as dark-outlined crosses, the drawn digit as a big star.

    Clicking picks a point (shift-click adds more), dragging draws a box: the page shows the
    picked digits below the chart.
    """
    tooltip = [
        alt.Tooltip("image:N"),
        alt.Tooltip("index:Q", title="test image"),
        alt.Tooltip("digit:N", title="true digit"),
        alt.Tooltip("predicted:Q", title="predicted"),
    ]
    if frame["note"].astype(bool).any():  # a disputed label in the sample (full MNIST only)
        tooltip.append(alt.Tooltip("note:N", title="note"))
    axis = alt.Axis(labels=False, ticks=False, title=None, grid=False)
    pick = alt.selection_point(name=PICK_PARAM, fields=["index"], on="click", toggle="event.shiftKey")
    box = alt.selection_interval(name=BOX_PARAM, encodings=["x", "y"])
    points = (
        alt.Chart(frame)
        .mark_point(filled=True, strokeWidth=1)
        .encode(
            x=alt.X("x:Q", axis=axis, scale=alt.Scale(zero=False)),
            y=alt.Y("y:Q", axis=axis, scale=alt.Scale(zero=False)),
            color=alt.Color(
                "digit:N",
                title="True digit",
                scale=alt.Scale(domain=[str(d) for d in range(10)], range=list(DIGIT_COLOURS)),
            ),
            shape=alt.Shape(
                "outcome:N", title="Model", scale=alt.Scale(domain=[CORRECT, ERROR], range=["circle", "cross"])
            ),
            size=alt.condition(f"datum.outcome == '{ERROR}'", alt.value(ERROR_SIZE), alt.value(POINT_SIZE)),
            stroke=alt.condition(f"datum.outcome == '{ERROR}'", alt.value("#212529"), alt.value(None)),
            opacity=alt.condition(pick | box, alt.value(0.85), alt.value(0.2)),
            tooltip=tooltip,
        )
        .add_params(pick, box)
    )
    chart = points
    if drawn is not None:
        you = pd.DataFrame({"x": [drawn[0]], "y": [drawn[1]], "label": ["your drawing"]})
        star = (
            alt.Chart(you)
            .mark_point(shape="diamond", filled=True, size=DRAWN_SIZE, color="#000000", stroke="#ffffff", strokeWidth=2)
            .encode(x="x:Q", y="y:Q", tooltip=[alt.Tooltip("label:N", title="")])
        )
        text = (
            alt.Chart(you)
            .mark_text(align="left", dx=16, fontSize=14, fontWeight="bold", color="#000000")
            .encode(x="x:Q", y="y:Q", text="label:N")
        )
        chart = alt.layer(points, star, text)
    return chart.properties(height=height, title=f"{method} of the penultimate layer's features")


def selected_rows(frame: pd.DataFrame, selection: dict) -> pd.DataFrame:
    """The rows of the points picked by click, then those inside the dragged box (each once)."""
    points = selection.get(PICK_PARAM) or []
    picked = {int(point["index"]) for point in points if "index" in point}
    rows = frame[frame["index"].isin(picked)]
    box = selection.get(BOX_PARAM) or {}
    if "x" in box and "y" in box:
        (x0, x1), (y0, y1) = sorted(box["x"]), sorted(box["y"])
        inside = frame["x"].between(x0, x1) & frame["y"].between(y0, y1) & ~frame["index"].isin(picked)
        rows = pd.concat([rows, frame[inside]])
    return rows
