"""Draw: a canvas with live prediction, the 28×28 image the model sees, and image upload.

A stroke reruns only `drawing_area`, a fragment: the canvas, the image the model sees and the
probability bars. The sidebar and the upload below are not rerun, and the fragment reads no file
and evaluates nothing but the one drawing: with a room full of people drawing at once, each
stroke costs the server a few milliseconds instead of a whole page. The session's calibration
choices (temperature, "not sure" threshold) are read once per page run, not per stroke.
"""

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from core.analysis.calibration import apply_temperature
from core.analysis.handwriting import draw_recommendation
from core.analysis.inspection import predict_digit
from core.errors import ImageInputError
from core.litert_forward import prepare_litert_forward
from core.preprocessing import digit_from_canvas, digit_from_upload
from dashboard import state
from dashboard.page_registry import heading_of
from dashboard.prediction_panel import prediction_panel
from dashboard.saliency_panel import saliency_panel

CANVAS_SIZE = 280
STROKE_WIDTH = 22
CANVAS_KEY = "canvas"
CLEARS_KEY = "canvas_clears"  # how often Clear was pressed; the canvas's initial drawing carries it
JUST_CLEARED_KEY = "canvas_just_cleared"

st.title(heading_of(__file__))
active = state.require_active_model()
prepare_litert_forward(active.model)  # converted while the page lays out, not at the first digit
temperature = state.displayed_temperature(active)  # None: the model's own probabilities
not_sure_below = state.not_sure_threshold()  # None: always answer
if temperature is not None or not_sure_below is not None:
    settings = [f"calibrated probabilities (T = {temperature:.2f})"] if temperature is not None else []
    if not_sure_below is not None:
        settings.append(f'"not sure" under {not_sure_below:.0%} confidence')
    st.caption(f"Showing {' and '.join(settings)}, as set on the Calibration page.")
if recommendation := draw_recommendation(active.run.config.arch if active.run else None):
    st.caption(recommendation)


def show_prediction(model, digit: np.ndarray, source: str) -> None:
    """The predicted digit, its probability bars, and the 28×28 input the model saw, as one light element."""
    st.session_state[state.LAST_DRAWN_DIGIT_KEY] = digit
    probabilities = predict_digit(model, digit)
    if temperature is not None:
        probabilities = apply_temperature(probabilities, temperature)
    with st.container(key=f"prediction_{source}"):
        st.html(prediction_panel(digit, probabilities, source, not_sure_below, temperature))


def clear_canvas() -> None:
    """Clear's callback: a new initial drawing empties the same canvas, which stays mounted.

    Re-creating the canvas under a new key (as before) lost a stroke drawn while the new one was
    being set up; the same canvas loads the new empty drawing in place and keeps listening.
    """
    st.session_state[CLEARS_KEY] = st.session_state.get(CLEARS_KEY, 0) + 1
    st.session_state[JUST_CLEARED_KEY] = True
    st.session_state.pop(state.LAST_DRAWN_DIGIT_KEY, None)


def empty_drawing() -> dict:
    """An empty drawing, different after each Clear: the canvas reloads its initial drawing only when it changes.

    Every key but "objects" lands on the Fabric canvas as a property; this one names nothing Fabric uses.
    """
    return {"objects": [], "digitLabClears": st.session_state.get(CLEARS_KEY, 0)}


def drawn_digit(canvas) -> np.ndarray | None:
    """The 28×28 digit on the canvas, or None if it is empty or about to be emptied.

    In the run Clear starts, the canvas still reports the old drawing: it empties itself (and
    reports that) only once this run's new initial drawing reaches the browser.
    """
    if st.session_state.pop(JUST_CLEARED_KEY, False) or canvas.image_data is None:
        return None
    return digit_from_canvas(canvas.image_data)


@st.fragment
def drawing_area(model) -> None:
    """The canvas, Clear, and the prediction: what a stroke reruns (and nothing else)."""
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
            initial_drawing=empty_drawing(),
            return_image_data=True,
            key=CANVAS_KEY,
        )
        st.button("Clear", icon=":material/delete:", on_click=clear_canvas)
    digit = drawn_digit(canvas)
    with result_column:
        if digit is None:
            st.info("Draw a digit on the black canvas to see what the model predicts.", icon=":material/draw:")
        else:
            show_prediction(model, digit, "drawing")
    # Off by default: with it off, a stroke costs one toggle more and no gradient.
    if st.toggle("Show which pixels made the model say so", key="draw_saliency") and digit is not None:
        saliency_panel(active, digit, int(np.argmax(predict_digit(model, digit))), key="draw")


drawing_area(active.model)

st.divider()
st.subheader("Or upload a photo or scan of a digit")
upload = st.file_uploader(
    "PNG or JPEG, any size, dark ink on light paper or light on dark", type=["png", "jpg", "jpeg"]
)
if upload is not None:
    try:
        show_prediction(active.model, digit_from_upload(upload.getvalue()), "upload")
    except ImageInputError as error:
        st.warning(str(error), icon=":material/image_not_supported:")
