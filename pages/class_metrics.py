"""Per-class metrics: precision, recall, F1, support, the confusion matrix and the most confused pairs."""

from dataclasses import asdict

import pandas as pd
import streamlit as st

from core.analysis.evaluation import most_confused_pairs
from dashboard import charts, state
from dashboard.page_registry import heading_of

st.title(heading_of(__file__))
active = state.require_active_model()
evaluation = active.evaluation()
report = evaluation.report

columns = st.columns(4)
columns[0].metric("Test accuracy", f"{evaluation.accuracy:.2%}")
columns[1].metric("Macro F1", f"{report.loc['macro avg', 'f1-score']:.4f}")
columns[2].metric("Weighted F1", f"{report.loc['weighted avg', 'f1-score']:.4f}")
columns[3].metric("Errors", f"{evaluation.errors} / {len(evaluation.labels)}")

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

st.subheader("Confusion matrix")
view = st.segmented_control("Show", ["counts", "row-normalised"], default="counts", key="confusion_view")
left, right = st.columns([3, 2])
with left:
    figure = charts.confusion_heatmap(evaluation.confusion, normalised=view == "row-normalised")
    st.plotly_chart(figure, key="confusion")
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
