"""Activations: every layer's response to one image, and the output probabilities."""

import numpy as np
import streamlit as st

from core.analysis.calibration import apply_temperature
from core.analysis.inspection import layer_activations, predict_digit
from core.litert_forward import prepare_litert_forward
from dashboard import charts, state
from dashboard.digit_picker import choose_digit
from dashboard.inline_images import png_data_uri
from dashboard.page_registry import heading_of
from dashboard.saliency_panel import saliency_panel

RESHAPING_LAYERS = ("Flatten", "Reshape", "Dropout")  # add nothing to look at during inference

st.title(heading_of(__file__))
active = state.require_active_model()
prepare_litert_forward(active.model)  # converted while the page lays out, not at the first digit
model = state.model_to_inspect(active)
data, _ = state.load_data()

digit = choose_digit(data, "activation")
image, caption = digit.image, digit.caption

activations = layer_activations(model, image[None])
input_column, output_column = st.columns([1, 3])
input_column.image(png_data_uri(image), width=160, caption=caption)
with output_column:
    probabilities = activations[model.layers[-1].name][0]
    temperature = state.displayed_temperature(active)  # the Calibration page's toggle; None when off
    if temperature is not None and not active.ensemble_runs:
        probabilities = apply_temperature(probabilities, temperature)
        st.caption(f"Calibrated probabilities (T = {temperature:.2f}), as set on the Calibration page.")
    elif temperature is not None:
        st.caption("The member's own probabilities: the calibration applies to the ensemble as a whole.")
    st.markdown(f"**Output:** predicted **{int(np.argmax(probabilities))}** ({probabilities.max():.1%})")
    st.plotly_chart(charts.probability_bars(probabilities, height=220), key="output_probabilities")

st.subheader("Which pixels made the model say so")
if active.ensemble_runs:
    st.caption("Of the ensemble itself (its average), not only the member shown layer by layer.")
saliency_panel(active, image, int(np.argmax(predict_digit(active.model, image))), key="activations")

st.subheader("Layer by layer")
for position, layer in enumerate(model.layers[:-1], start=1):
    values = activations[layer.name][0]
    kind = type(layer).__name__
    if kind in RESHAPING_LAYERS:
        st.caption(f"{position}. `{layer.name}` ({kind}, output {values.shape}): reshapes or is inactive at inference.")
        continue
    st.markdown(f"**{position}. `{layer.name}`** · {kind} · output shape {values.shape}")
    if values.ndim == 3:  # feature maps (height, width, channels)
        maps = np.transpose(values, (2, 0, 1))
        figure = charts.image_mosaic(maps, diverging=False, unit_label="feature map", tile_height=60)
    else:
        active_units = int((values > 0).sum())
        figure = charts.unit_heatmap(values, f"{active_units} of {values.size} units active")
    st.plotly_chart(figure, key=f"activation_{layer.name}")
