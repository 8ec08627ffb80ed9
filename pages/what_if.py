"""What-if: one digit, sliders for each perturbation; the transformed digit and the probabilities follow.

A slider move reruns only `what_if_area`, a fragment: one batched transform of one image (a few
milliseconds) and the compiled single-image pass (about 1 ms); the page shows the server time it took.
"""

import time

import numpy as np
import streamlit as st

from core.analysis.inspection import predict_digit
from core.analysis.perturbations import BY_NAME, COMPOSITION_ORDER, perturb
from core.litert_forward import prepare_litert_forward
from dashboard import charts, state
from dashboard.digit_picker import choose_digit
from dashboard.inline_images import png_data_uri
from dashboard.page_registry import heading_of

SLIDER_KEY = "what_if_{}"
SEED = 0

st.title(heading_of(__file__))
active = state.require_active_model()
prepare_litert_forward(active.model)  # converted while the page lays out, not at the first digit
data, _ = state.load_data()

digit = choose_digit(data, "what_if")
image, true_label = digit.image, digit.true_label


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
