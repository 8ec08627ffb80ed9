"""A grid of test images with their labels, paged and sorted by confidence, each with an Inspect button.

Shared by the Misclassifications page and the confusion-matrix drill-down on Per-class metrics.
Inspect puts the image's index in the session (state.SELECTED_TEST_INDEX_KEY), which the
selected-image panel and the Activations page read.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core import disputed_labels
from core.analysis.evaluation import Evaluation
from core.data import MnistData
from dashboard import charts, state
from dashboard.inline_images import png_data_uri
from dashboard.saliency_panel import saliency_panel

COLUMNS = 8
PER_PAGE = 32
MOST_CONFIDENT, LEAST_CONFIDENT = "most confident first", "least confident first"


def sort_order(key: str, least_confident_first: bool = False) -> bool:
    """A radio for the order; True when the most confident images come first."""
    options = [MOST_CONFIDENT, LEAST_CONFIDENT]
    choice = st.radio("Sort by confidence", options, index=int(least_confident_first), key=key, horizontal=True)
    return choice == MOST_CONFIDENT


def caption_of(index: int, evaluation: Evaluation, disputed: frozenset[int]) -> str:
    """✓/✗, true and predicted digit, confidence, and a mark on labels human raters disputed."""
    label, predicted = int(evaluation.labels[index]), int(evaluation.predictions[index])
    mark = "✓" if label == predicted else "✗"
    caption = f"{mark} true **{label}** → **{predicted}** · {evaluation.confidences[index]:.0%}"
    return caption + disputed_mark(index, disputed)


def disputed_mark(index: int, disputed: frozenset[int]) -> str:
    """ " · label disputed" (in orange) for a test label human raters disputed, else nothing."""
    return f" · :orange[{disputed_labels.DISPUTED_NOTE}]" if int(index) in disputed else ""


def grid(indices: np.ndarray, evaluation: Evaluation, data: MnistData, key_prefix: str) -> None:
    """The images in rows of COLUMNS, each with its caption and an Inspect button."""
    disputed = disputed_labels.disputed_test_indices(data)
    for start in range(0, len(indices), COLUMNS):
        for column, index in zip(st.columns(COLUMNS), indices[start : start + COLUMNS], strict=False):
            column.image(png_data_uri(data.x_test[index]), width="stretch")
            column.caption(caption_of(int(index), evaluation, disputed))
            if column.button("Inspect", key=f"{key_prefix}_{index}"):
                st.session_state[state.SELECTED_TEST_INDEX_KEY] = int(index)


def paged_grid(indices: np.ndarray, evaluation: Evaluation, data: MnistData, key_prefix: str) -> None:
    """`grid` for PER_PAGE images at a time, with a page number when there is more than one page."""
    pages = max(1, int(np.ceil(len(indices) / PER_PAGE)))
    page = st.number_input(f"Page (of {pages})", 1, pages, 1, key=f"{key_prefix}_page") if pages > 1 else 1
    grid(indices[(page - 1) * PER_PAGE : page * PER_PAGE], evaluation, data, key_prefix)


def selected_image(evaluation: Evaluation, data: MnistData) -> None:
    """The image last chosen with Inspect, large, with the model's probability per digit."""
    index = st.session_state.get(state.SELECTED_TEST_INDEX_KEY)
    if index is None or index >= len(evaluation.labels):
        return
    label, predicted = int(evaluation.labels[index]), int(evaluation.predictions[index])
    st.subheader("Selected image")
    image_column, bars_column = st.columns([1, 3])
    image_column.image(png_data_uri(data.x_test[index]), width=160, caption=f"test image #{index}")
    with bars_column:
        mark = disputed_mark(index, disputed_labels.disputed_test_indices(data))
        st.markdown(f"**true {label} · predicted {predicted}** ({evaluation.confidences[index]:.1%}){mark}")
        figure = charts.probability_bars(evaluation.probabilities[index], true_label=label, height=220)
        st.plotly_chart(figure, key="selected_probabilities")
        st.caption("Green outline: the true digit. Open **Activations** to see this image layer by layer.")
    st.markdown("**Which pixels made the model say so**")
    saliency_panel(state.require_active_model(), data.x_test[index], predicted, key="gallery")
