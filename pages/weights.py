"""Weights: the first hidden layer's weights as images, and which digits excite each unit most."""

import numpy as np
import pandas as pd
import streamlit as st

from core.analysis.inspection import class_preference, first_layer_weights
from dashboard import charts, state

PREFERENCE_IMAGES = 2000  # test images used to find each unit's favourite digits


@st.cache_data(max_entries=8, show_spinner="Measuring which digits excite each unit…")
def preference_table(model_key: str, _model, _images, _labels) -> np.ndarray:
    return class_preference(_model, _images, _labels)


st.title("Weights")
active = state.require_active_model()
model = state.model_to_inspect(active)
data, _ = state.load_data()
weights = first_layer_weights(model)
count = len(weights.images)

if weights.kind == "dense":
    st.markdown(
        f"Each tile is one of the **{count} units** of `{weights.layer_name}`: its 784 input weights laid out "
        "as the 28×28 image they multiply. Red pixels push the unit up when ink is there, blue ones push it down."
    )
    columns = 16 if count > 32 else 8
else:
    st.markdown(
        f"Each tile is one of the **{count} kernels** of the first convolution `{weights.layer_name}` "
        f"({weights.images.shape[1]}×{weights.images.shape[2]} pixels). "
        "Red weights respond to ink, blue to its absence."
    )
    columns = 8
rows = int(np.ceil(count / columns))
st.plotly_chart(
    charts.image_mosaic(weights.images, columns, diverging=True, unit_label="unit", height=70 * rows + 40),
    key="weight_mosaic",
)

st.subheader("Which digits excite each unit")
images, labels = data.x_test[:PREFERENCE_IMAGES], data.y_test[:PREFERENCE_IMAGES]
table = preference_table(active.key, model, images, labels)
top_digits = np.argsort(table, axis=1)[:, ::-1][:, :3]
unit = st.slider("Unit", 0, count - 1, 0, key="weights_unit")
left, right = st.columns([1, 2])
with left:
    st.plotly_chart(
        charts.image_mosaic(weights.images[unit : unit + 1], 1, diverging=True, unit_label="unit", height=260),
        key="single_unit",
    )
with right:
    st.plotly_chart(charts.digit_bars(table[unit], "mean activation"), key="unit_preference")
    st.caption(f"Unit {unit} responds most to digits {', '.join(str(d) for d in top_digits[unit])}.")

with st.expander("All units: their three favourite digits"):
    st.dataframe(
        pd.DataFrame(
            {
                "1st": top_digits[:, 0],
                "2nd": top_digits[:, 1],
                "3rd": top_digits[:, 2],
                "strongest mean activation": table.max(axis=1),
            },
        ).rename_axis("unit"),
        width="stretch",
    )
