"""Activations: every layer's response to one image, and the output probabilities."""

import numpy as np
import streamlit as st

from core.analysis.inspection import layer_activations, predict_digit
from dashboard import charts, state
from dashboard.inline_images import png_data_uri
from dashboard.page_registry import heading_of
from dashboard.saliency_panel import saliency_panel

RESHAPING_LAYERS = ("Flatten", "Reshape", "Dropout")  # add nothing to look at during inference

st.title(heading_of(__file__))
active = state.require_active_model()
model = state.model_to_inspect(active)
data, _ = state.load_data()

sources = ["test image by index"]
if st.session_state.get(state.SELECTED_TEST_INDEX_KEY) is not None:
    sources.append("image selected in Misclassifications")
if st.session_state.get(state.LAST_DRAWN_DIGIT_KEY) is not None:
    sources.append("last drawn digit")
source = st.radio("Image", sources, horizontal=True, key="activation_source")

if source == "last drawn digit":
    image = np.asarray(st.session_state[state.LAST_DRAWN_DIGIT_KEY], dtype=np.float32)
    caption = "your drawing, as the model sees it"
else:
    default = st.session_state.get(state.SELECTED_TEST_INDEX_KEY) if source.startswith("image selected") else None
    # A keyed widget keeps its value when its default changes: one key per selected image.
    key = "activation_index" if default is None else f"activation_index_selected_{default}"
    index = st.number_input("Test image index", 0, len(data.y_test) - 1, int(default or 0), key=key)
    image = data.x_test[index]
    caption = f"test image #{index} (true digit {int(data.y_test[index])})"

activations = layer_activations(model, image[None])
input_column, output_column = st.columns([1, 3])
input_column.image(png_data_uri(image), width=160, caption=caption)
with output_column:
    probabilities = activations[model.layers[-1].name][0]
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
