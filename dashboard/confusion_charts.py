"""The confusion matrix as an Altair chart whose cells can be clicked.

Altair, not Plotly: a click on a Plotly heatmap reaches Streamlit as an empty selection
(streamlit issues 8760, 8933, 15042), whereas a `mark_rect` with a point selection on the
(true, predicted) fields comes back as exactly the clicked cell.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

CELL_SELECTION = "cell"  # the selection's name: st.altair_chart's event.selection[CELL_SELECTION]
MATRIX_SIZE = 460
DIAGONAL_COLOUR = "#d0ebff"
NO_ERROR_RGB, MOST_ERRORS_RGB = (255, 255, 255), (224, 49, 49)


def confusion_table(confusion: np.ndarray) -> pd.DataFrame:
    """One row per cell: true, predicted, count, and the count's share of the true digit's images."""
    counts = np.asarray(confusion)
    row_totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, row_totals, out=np.zeros(counts.shape, dtype=float), where=row_totals > 0)
    true, predicted = np.indices(counts.shape)
    return pd.DataFrame(
        {
            "true": true.ravel(),
            "predicted": predicted.ravel(),
            "count": counts.ravel(),
            "share": shares.ravel(),
            "diagonal": (true == predicted).ravel(),
        }
    )


def confusion_matrix_chart(confusion: np.ndarray, normalised: bool) -> alt.LayerChart:
    """Cells coloured by count (or row share), labelled, clickable; the diagonal in its own scale.

    The diagonal holds ~99 % of the images, so colouring it on the errors' scale would wash every
    error out: errors are shaded in reds by themselves and correct cells in a light blue.
    """
    table = confusion_table(confusion)
    table["label"] = [f"{s:.1%}" if normalised else f"{c}" for c, s in zip(table["count"], table["share"], strict=True)]
    value = "share" if normalised else "count"
    cell = alt.selection_point(name=CELL_SELECTION, fields=["true", "predicted"], on="click", clear="dblclick")
    digit_axis = alt.Axis(labelAngle=0, labelFontSize=13, titleFontSize=13)
    base = alt.Chart(table).encode(
        x=alt.X("predicted:O", title="predicted digit", axis=alt.Axis(orient="top", **digit_axis.to_dict())),
        y=alt.Y("true:O", title="true digit", axis=digit_axis),
        tooltip=[
            alt.Tooltip("true:O", title="true"),
            alt.Tooltip("predicted:O", title="predicted"),
            alt.Tooltip("count:Q", title="images"),
            alt.Tooltip("share:Q", title="share of true digit", format=".2%"),
        ],
    )
    table["fill"] = cell_colours(table[value].to_numpy(), table["diagonal"].to_numpy())
    cells = (
        base.mark_rect(stroke="#dee2e6", strokeWidth=1, cursor="pointer")
        .encode(
            color=alt.Color("fill:N", scale=None, legend=None),  # colours as given: no theme's scale in between
            opacity=alt.condition(cell, alt.value(1.0), alt.value(0.35)),  # the clicked cell stands out
        )
        .add_params(cell)
    )
    labels = base.mark_text(fontSize=12).encode(
        text="label:N",
        color=alt.condition(f"datum.{value} > 0 && !datum.diagonal", alt.value("black"), alt.value("#495057")),
    )
    return (cells + labels).properties(width=MATRIX_SIZE, height=MATRIX_SIZE)


def cell_colours(values: np.ndarray, diagonal: np.ndarray) -> list[str]:
    """Light blue on the diagonal; off it, white for no error up to red for the most errors.

    The shade follows the square root of the value, so that a cell with one error is already
    visibly pink beside the largest cell. Worked out here rather than by a Vega scale, so that
    the dashboard's theme cannot change what zero looks like.
    """
    errors = np.where(diagonal, 0.0, values.astype(float))
    top = errors.max() if errors.max() > 0 else 1.0
    strength = np.sqrt(errors / top)
    colours = []
    for is_diagonal, weight in zip(diagonal, strength, strict=True):
        if is_diagonal:
            colours.append(DIAGONAL_COLOUR)
        else:
            rgb = (np.array(NO_ERROR_RGB) + weight * (np.array(MOST_ERRORS_RGB) - np.array(NO_ERROR_RGB))).round()
            colours.append("#{:02x}{:02x}{:02x}".format(*rgb.astype(int)))
    return colours


def clicked_cell(event) -> tuple[int, int] | None:
    """The (true, predicted) cell of a selection event from st.altair_chart, or None when none is clicked."""
    points = (event or {}).get("selection", {}).get(CELL_SELECTION) or []
    if not points:
        return None
    return int(points[0]["true"]), int(points[0]["predicted"])
