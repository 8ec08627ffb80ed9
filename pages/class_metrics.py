"""Per-class metrics: precision, recall, F1, support, the confusion matrix (click a cell to see its
images) and the most confused pairs."""

from dataclasses import asdict

import pandas as pd
import streamlit as st

from core.analysis.evaluation import Evaluation, confusion_cell, most_confused_pairs
from dashboard import charts, gallery, state
from dashboard.confusion_charts import clicked_cell, confusion_matrix_chart
from dashboard.page_registry import heading_of

CELL_TRUE_KEY, CELL_PREDICTED_KEY = "cell_true", "cell_predicted"
LAST_CLICK_KEY = "confusion_last_click"  # the click already applied, so a later rerun keeps the user's own choice

st.title(heading_of(__file__))
active = state.require_active_model()
evaluation = active.evaluation()
data, _ = state.load_data()
report = evaluation.report


def headline_ui() -> None:
    columns = st.columns(4)
    columns[0].metric("Test accuracy", f"{evaluation.accuracy:.2%}")
    columns[1].metric("Macro F1", f"{report.loc['macro avg', 'f1-score']:.4f}")
    columns[2].metric("Weighted F1", f"{report.loc['weighted avg', 'f1-score']:.4f}")
    columns[3].metric("Errors", f"{evaluation.errors} / {len(evaluation.labels)}")


def per_digit_ui() -> None:
    left, right = st.columns([2, 3])
    with left:
        st.subheader("Per digit")
        st.dataframe(
            report.style.format({"precision": "{:.4f}", "recall": "{:.4f}", "f1-score": "{:.4f}"}),
            width="stretch",
            height="content",  # every digit and both averages, without an inner scrollbar
            column_config={"_index": st.column_config.Column(width=100)},  # "weighted avg" in full
        )
    with right:
        st.subheader("Precision, recall and F1")
        st.plotly_chart(charts.class_metric_bars(report), key="class_bars")


def confusion_ui() -> None:
    """The clickable matrix; a click picks the cell whose images the drill-down below shows."""
    st.subheader("Confusion matrix")
    view = st.segmented_control("Show", ["counts", "row-normalised"], default="counts", key="confusion_view")
    left, right = st.columns([3, 2])
    with left:
        chart = confusion_matrix_chart(evaluation.confusion, normalised=view == "row-normalised")
        event = st.altair_chart(chart, on_select="rerun", key="confusion", width="content")
        st.caption("Click a cell to see its images below; double-click to clear.")
    with right:
        st.markdown("**Most confused pairs**")
        pairs = most_confused_pairs(evaluation.confusion, top=8)
        if pairs:
            table = pd.DataFrame([asdict(pair) for pair in pairs]).rename(
                columns={"count": "errors", "share_of_true": "share of true digit"}
            )
            st.dataframe(table.style.format({"share of true digit": "{:.2%}"}), hide_index=True, width="stretch")
        else:
            st.caption("No errors at all.")
    cell = clicked_cell(event)
    if cell is not None and cell != st.session_state.get(LAST_CLICK_KEY):
        st.session_state[LAST_CLICK_KEY] = cell
        st.session_state[CELL_TRUE_KEY], st.session_state[CELL_PREDICTED_KEY] = cell


def drill_down_ui(evaluation: Evaluation) -> None:
    """The images of one cell, paged and sorted; the diagonal's least confident correct ones first."""
    st.subheader("Images in a cell")
    left, middle, right = st.columns([1, 1, 2])
    if CELL_TRUE_KEY not in st.session_state:  # the first pair the model mixes up, or the 0 row's diagonal
        pairs = most_confused_pairs(evaluation.confusion, top=1)
        st.session_state[CELL_TRUE_KEY], st.session_state[CELL_PREDICTED_KEY] = (
            (pairs[0].true, pairs[0].predicted) if pairs else (0, 0)
        )
    true_class = left.selectbox("True digit", range(10), key=CELL_TRUE_KEY)
    predicted_class = middle.selectbox("Predicted digit", range(10), key=CELL_PREDICTED_KEY)
    diagonal = true_class == predicted_class
    with right:
        most_confident_first = gallery.sort_order(f"cell_sort_{'diagonal' if diagonal else 'error'}", diagonal)
    indices = confusion_cell(evaluation, true_class, predicted_class, most_confident_first)
    kind = "correct" if diagonal else "misclassified"
    st.caption(f"{len(indices)} test images of a {true_class} predicted as {predicted_class} ({kind}).")
    if len(indices):
        gallery.paged_grid(indices, evaluation, data, f"cell_{true_class}_{predicted_class}")
    else:
        st.info("No test images in this cell.")
    gallery.selected_image(evaluation, data)


headline_ui()
per_digit_ui()
confusion_ui()
drill_down_ui(evaluation)
