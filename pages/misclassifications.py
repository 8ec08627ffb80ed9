"""Misclassifications: a filterable gallery of wrong predictions, and a random sample of all of them."""

import numpy as np
import streamlit as st

from core.analysis.evaluation import misclassified
from dashboard import gallery, state
from dashboard.page_registry import heading_of

SAMPLE_SIZE = 16

st.title(heading_of(__file__))
active = state.require_active_model()
evaluation = state.displayed_evaluation(active)  # calibrated when the session asks (Calibration)
data, _ = state.load_data()
digits = ["all", *range(10)]

left, middle, right = st.columns([1, 1, 2])
true_class = left.selectbox("True digit", digits, key="filter_true")
predicted_class = middle.selectbox("Predicted digit", digits, key="filter_predicted")
with right:
    most_confident_first = gallery.sort_order("sort_order")
indices = misclassified(
    evaluation,
    true_class=None if true_class == "all" else true_class,
    predicted_class=None if predicted_class == "all" else predicted_class,
    most_confident_first=most_confident_first,
)
st.caption(f"{len(indices)} of the {evaluation.errors} misclassified test images match the filters.")
if len(indices):
    gallery.paged_grid(indices, evaluation, data, "inspect")
else:
    st.info("No misclassified images match these filters.")

selected_area = st.container()  # filled last, so a click in either gallery shows at once

st.subheader("Random sample of predictions, right and wrong")
if st.button("New sample", icon=":material/shuffle:"):
    st.session_state["sample_seed"] = int(np.random.default_rng().integers(1_000_000))
rng = np.random.default_rng(st.session_state.get("sample_seed", 0))
sample = rng.choice(len(evaluation.labels), size=min(SAMPLE_SIZE, len(evaluation.labels)), replace=False)
gallery.grid(sample, evaluation, data, "sample")

with selected_area:
    gallery.selected_image(evaluation, data)
