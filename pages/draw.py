"""Draw: a canvas with live prediction, the 28×28 image the model sees, and image upload."""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from core.analysis.inspection import predict_digit
from core.errors import ImageInputError
from core.preprocessing import digit_from_canvas, digit_from_upload
from dashboard import charts, state
from dashboard.page_registry import heading_of

CANVAS_SIZE = 280
STROKE_WIDTH = 22
CANVAS_ROUND_KEY = "canvas_round"  # a new canvas key empties the canvas

st.title(heading_of(__file__))
active = state.require_active_model()
model = active.model


def show_prediction(digit: np.ndarray, source: str) -> None:
    """The predicted digit, its probability bars, and the 28×28 input the model saw."""
    st.session_state[state.LAST_DRAWN_DIGIT_KEY] = digit
    probabilities = predict_digit(model, digit)
    predicted = int(np.argmax(probabilities))
    seen_column, result_column = st.columns([1, 2])
    with seen_column:
        st.image(digit, width=140, clamp=True, caption="what the model sees (28×28)")
    with result_column:
        st.markdown(f"### Prediction: **{predicted}**")
        st.caption(f"{probabilities[predicted]:.1%} confident · from your {source}")
    st.plotly_chart(charts.probability_bars(probabilities), key=f"probabilities_{source}")


draw_column, result_column = st.columns([1, 1], gap="large")
with draw_column:
    st.markdown("Draw one digit, large, in the middle of the box.")
    st.space("small")  # room for the canvas's hover toolbar, which floats above it
    canvas = st_canvas(
        stroke_width=STROKE_WIDTH,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=CANVAS_SIZE,
        width=CANVAS_SIZE,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"canvas_{st.session_state.get(CANVAS_ROUND_KEY, 0)}",
    )
    if st.button("Clear", icon=":material/delete:"):
        st.session_state[CANVAS_ROUND_KEY] = st.session_state.get(CANVAS_ROUND_KEY, 0) + 1
        st.session_state.pop(state.LAST_DRAWN_DIGIT_KEY, None)
        st.rerun()

with result_column:
    digit = digit_from_canvas(canvas.image_data) if canvas.image_data is not None else None
    if digit is None:
        st.info("Draw a digit on the black canvas to see what the model predicts.", icon=":material/draw:")
    else:
        show_prediction(digit, "drawing")

st.divider()
st.subheader("Or upload a photo or scan of a digit")
upload = st.file_uploader(
    "PNG or JPEG, any size, dark ink on light paper or light on dark", type=["png", "jpg", "jpeg"]
)
if upload is not None:
    try:
        show_prediction(digit_from_upload(upload.getvalue()), "upload")
    except ImageInputError as error:
        st.warning(str(error), icon=":material/image_not_supported:")
