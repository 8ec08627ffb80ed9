"""What-if: one digit, sliders for each perturbation; the transformed digit and the probabilities follow.

A slider move reruns only `what_if_area`, a fragment: one batched transform of one image (a few
milliseconds) and the compiled single-image pass (about 1 ms); the page shows the server time it took.
"""

import time

import numpy as np
import streamlit as st

from core.analysis.inspection import predict_digit
from core.analysis.perturbations import BY_NAME, COMPOSITION_ORDER, perturb
from dashboard import charts, state
from dashboard.inline_images import png_data_uri
from dashboard.page_registry import heading_of

SLIDER_KEY = "what_if_{}"
SEED = 0

st.title(heading_of(__file__))
active = state.require_active_model()
data, _ = state.load_data()

sources = ["test image by index"]
if st.session_state.get(state.SELECTED_TEST_INDEX_KEY) is not None:
    sources.append("image selected in Misclassifications")
if st.session_state.get(state.LAST_DRAWN_DIGIT_KEY) is not None:
    sources.append("last drawn digit")
source = st.radio("Image", sources, horizontal=True, key="what_if_source")
if source == "last drawn digit":
    image, true_label = np.asarray(st.session_state[state.LAST_DRAWN_DIGIT_KEY], dtype=np.float32), None
else:
    default = st.session_state.get(state.SELECTED_TEST_INDEX_KEY) if source.startswith("image selected") else 0
    index = st.number_input("Test image index", 0, len(data.y_test) - 1, int(default or 0), key="what_if_index")
    image, true_label = data.x_test[index], int(data.y_test[index])


def reset() -> None:
    for name in COMPOSITION_ORDER:
        st.session_state[SLIDER_KEY.format(name)] = 0.0


@st.fragment
def what_if_area(model, image: np.ndarray, true_label: int | None) -> None:
    """The sliders, the transformed digit and its probability bars: what a slider move reruns."""
    slider_column, result_column = st.columns([1, 1], gap="large")
    with slider_column:
        severities = {}
        for name in COMPOSITION_ORDER:
            perturbation = BY_NAME[name]
            low, high, step = (float(value) for value in perturbation.slider)
            severities[name] = st.slider(
                f"{perturbation.label} ({perturbation.unit})",
                low,
                high,
                0.0,
                step,
                format="%.0f" if step.is_integer() else "%.2f",
                key=SLIDER_KEY.format(name),
            )
        st.button("Reset", icon=":material/restart_alt:", on_click=reset)
    started = time.perf_counter()
    changed = perturb(image, severities, SEED)[0]
    probabilities = predict_digit(model, changed)
    picture = png_data_uri(changed)
    elapsed_ms = (time.perf_counter() - started) * 1000
    with result_column:
        predicted = int(np.argmax(probabilities))
        st.image(picture, width=196, caption="the digit as the model now sees it")
        st.markdown(f"**Predicted {predicted}** ({probabilities.max():.1%})")
        st.plotly_chart(charts.probability_bars(probabilities, true_label, height=220), key="what_if_probabilities")
        st.caption(f"Transform, prediction and image took {elapsed_ms:.1f} ms on the server.")


what_if_area(active.model, image, true_label)
