"""Calibration: reliability diagrams before and after temperature scaling, the scores, and selective prediction."""

import pandas as pd
import streamlit as st

from core.analysis.calibration import selective_prediction
from dashboard import calibration_charts, state
from dashboard.page_registry import heading_of

st.title(heading_of(__file__))
active = state.require_active_model()
calibration = state.calibration_of(active)
before, after = state.calibration_reports(active)
temperature = calibration.temperature

st.markdown(
    "When the model is 90 % sure, is it right 90 % of the time? A **reliability diagram** sorts the test images "
    "by confidence (the probability of the predicted digit) and compares each group's accuracy with its mean "
    "confidence. **Temperature scaling** divides the model's logits by one number T fitted on held-out images: "
    "T > 1 tempers over-confident probabilities, T < 1 sharpens timid ones; the predicted digit never changes."
)
state.remembered(
    st.toggle,
    "Calibrated probabilities",
    state.CALIBRATED_KEY,
    False,
    help="Show temperature-scaled probabilities on every page of this session (Misclassifications, Draw, "
    "selective prediction below). Predictions and accuracy stay the same.",
)

fitted_here = "" if calibration.recorded else ", once for this model on this server"
st.info(
    f"**T = {temperature:.3f}**, fitted on {calibration.fitted_on}{fitted_here}; never on the test set. "
    "Every score on this page is measured on the test set.",
    icon=":material/thermostat:",
)
if calibration.caveat:
    st.warning(calibration.caveat, icon=":material/warning:")

columns = st.columns(4)
columns[0].metric("Temperature T", f"{temperature:.3f}")
headline = [("ECE", "ece", "{:.2%}"), ("Log-loss", "nll", "{:.4f}"), ("Brier score", "brier", "{:.4f}")]
for column, (label, field, form) in zip(columns[1:], headline, strict=True):
    value, change = getattr(after, field), getattr(after, field) - getattr(before, field)
    column.metric(f"{label} after", form.format(value), form.replace(":", ":+").format(change), delta_color="inverse")

st.subheader("Reliability diagram, before and after")
left, right = st.columns(2)
with left:
    figure = calibration_charts.reliability_diagram(before, "The model's own probabilities (T = 1)")
    st.plotly_chart(figure, key="reliability_before")
with right:
    figure = calibration_charts.reliability_diagram(after, f"Temperature-scaled (T = {temperature:.2f})")
    st.plotly_chart(figure, key="reliability_after")
st.caption(
    "Blue: accuracy per confidence bin; red: the gap to the bin's mean confidence (red above the bar: "
    "over-confident, below: under-confident); dashed: perfect calibration. Grey, underneath: how many test "
    "images each bin holds, on a log scale, so that the bins behind the gaps can be judged."
)

st.subheader("Scores on the test set")
SCORES = {  # row name: (report attribute, format)
    "ECE (expected calibration error)": ("ece", "{:.2%}"),
    "MCE (maximum calibration error)": ("mce", "{:.2%}"),
    "Log-loss (NLL)": ("nll", "{:.4f}"),
    "Brier score": ("brier", "{:.4f}"),
    "Mean confidence": ("mean_confidence", "{:.2%}"),
    "Accuracy": ("accuracy", "{:.2%}"),
}


def scores(report) -> dict[str, str]:
    return {name: form.format(getattr(report, field)) for name, (field, form) in SCORES.items()}


table = pd.DataFrame({"before (T = 1)": scores(before), f"after (T = {temperature:.2f})": scores(after)})
st.dataframe(table, width="stretch", key="calibration_scores")
st.caption(
    f"{before.count:,} test images in {len(before.reliability.counts)} equal-width confidence bins. Lower is "
    "better for the first four. MCE is the largest gap of any bin, however few images it holds. The Brier "
    "score sums the squared errors of all ten probabilities (0 to 2)."
)

st.subheader("Selective prediction: answer only when sure enough")
evaluation = state.displayed_evaluation(active)
calibrated = state.calibrated_probabilities_on()
threshold = state.remembered(
    st.slider,
    "Confidence threshold",
    state.THRESHOLD_KEY,
    state.DEFAULT_THRESHOLD,
    min_value=0.0,
    max_value=1.0,
    step=0.01,
    help="The model answers an image only when the probability of its prediction reaches this; otherwise it "
    "says it is not sure.",
)
correct = evaluation.predictions == evaluation.labels
chosen = selective_prediction(evaluation.confidences, correct, threshold)
columns = st.columns(3)
columns[0].metric("Accuracy on the answered", "n/a" if not chosen.answered else f"{chosen.accuracy:.2%}")
columns[1].metric("Answered (coverage)", f"{chosen.coverage:.1%}")
columns[2].metric('"Not sure"', f"{chosen.count - chosen.answered:,} / {chosen.count:,}")
kind = f"temperature-scaled (T = {temperature:.2f})" if calibrated else "the model's own"
st.caption(f"Confidences: {kind} probabilities, as the toggle above says. Answering all: {before.accuracy:.2%}.")
curves = state.coverage_curves(active)
chosen_curve = "temperature-scaled" if calibrated else "model's own"
st.plotly_chart(calibration_charts.accuracy_coverage(curves, chosen, chosen_curve), key="accuracy_coverage")
state.remembered(
    st.checkbox,
    'On the Draw page, answer "not sure" below this threshold',
    state.NOT_SURE_KEY,
    False,
    help='Draw then shows its best guess under a "Not sure" heading when the prediction\'s probability is '
    "below the threshold.",
)
