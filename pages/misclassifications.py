"""Misclassifications: a filterable gallery of wrong predictions, and a random sample of all of them."""

import numpy as np
import streamlit as st

from core.analysis.evaluation import misclassified
from dashboard import charts, state
from dashboard.inline_images import png_data_uri
from dashboard.page_registry import heading_of

GALLERY_COLUMNS = 8
PER_PAGE = 32
SAMPLE_SIZE = 16

st.title(heading_of(__file__))
active = state.require_active_model()
evaluation = state.displayed_evaluation(active)  # calibrated when the session asks (Calibration)
data, _ = state.load_data()
digits = ["all", *range(10)]

left, middle, right = st.columns(3)
true_class = left.selectbox("True digit", digits, key="filter_true")
predicted_class = middle.selectbox("Predicted digit", digits, key="filter_predicted")
order = right.radio("Sort by confidence", ["most confident first", "least confident first"], key="sort_order")
indices = misclassified(
    evaluation,
    true_class=None if true_class == "all" else true_class,
    predicted_class=None if predicted_class == "all" else predicted_class,
    most_confident_first=order == "most confident first",
)
st.caption(f"{len(indices)} of the {evaluation.errors} misclassified test images match the filters.")


def show_selected(index: int) -> None:
    """The chosen image large, with its probability bars."""
    label, predicted = int(evaluation.labels[index]), int(evaluation.predictions[index])
    image_column, bars_column = st.columns([1, 3])
    image_column.image(png_data_uri(data.x_test[index]), width=160, caption=f"test image #{index}")
    with bars_column:
        st.markdown(f"**true {label} · predicted {predicted}** ({evaluation.confidences[index]:.1%})")
        figure = charts.probability_bars(evaluation.probabilities[index], true_label=label, height=220)
        st.plotly_chart(figure, key="selected_probabilities")
        st.caption("Green outline: the true digit. Open **Activations** to see this image layer by layer.")


def gallery(page_indices: np.ndarray, key_prefix: str) -> None:
    """Images in a grid, each with its labels and an Inspect button."""
    for start in range(0, len(page_indices), GALLERY_COLUMNS):
        columns = st.columns(GALLERY_COLUMNS)
        for column, index in zip(columns, page_indices[start : start + GALLERY_COLUMNS], strict=False):
            label, predicted = int(evaluation.labels[index]), int(evaluation.predictions[index])
            mark = "✓" if label == predicted else "✗"
            column.image(png_data_uri(data.x_test[index]), width="stretch")
            column.caption(f"{mark} true **{label}** → **{predicted}** · {evaluation.confidences[index]:.0%}")
            if column.button("Inspect", key=f"{key_prefix}_{index}"):
                st.session_state[state.SELECTED_TEST_INDEX_KEY] = int(index)


if len(indices):
    pages = int(np.ceil(len(indices) / PER_PAGE))
    page = st.number_input(f"Page (of {pages})", 1, pages, 1, key="gallery_page") if pages > 1 else 1
    gallery(indices[(page - 1) * PER_PAGE : page * PER_PAGE], "inspect")
else:
    st.info("No misclassified images match these filters.")

selected_area = st.container()  # filled last, so a click in either gallery shows at once

st.subheader("Random sample of predictions, right and wrong")
if st.button("New sample", icon=":material/shuffle:"):
    st.session_state["sample_seed"] = int(np.random.default_rng().integers(1_000_000))
rng = np.random.default_rng(st.session_state.get("sample_seed", 0))
gallery(rng.choice(len(evaluation.labels), size=min(SAMPLE_SIZE, len(evaluation.labels)), replace=False), "sample")

selected = st.session_state.get(state.SELECTED_TEST_INDEX_KEY)
if selected is not None and selected < len(evaluation.labels):
    with selected_area:
        st.subheader("Selected image")
        show_selected(selected)
