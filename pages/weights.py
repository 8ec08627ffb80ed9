"""Weights: the first hidden layer's weights as images, and which digits excite each unit most."""

import pandas as pd
import streamlit as st

from core.analysis.inspection import first_layer_weights
from dashboard import charts, state
from dashboard.page_registry import heading_of

st.title(heading_of(__file__))
active = state.require_active_model()
model = state.model_to_inspect(active)
weights = first_layer_weights(model)
count = len(weights.images)

if weights.kind == "dense":
    st.markdown(
        f"Each tile is one of the **{count} units** of `{weights.layer_name}`: its 784 input weights laid out "
        "as the 28×28 image they multiply. Red pixels push the unit up when ink is there, blue ones push it down."
    )
else:
    st.markdown(
        f"Each tile is one of the **{count} kernels** of the first convolution `{weights.layer_name}` "
        f"({weights.images.shape[1]}×{weights.images.shape[2]} pixels). "
        "Red weights respond to ink, blue to its absence."
    )
st.plotly_chart(
    charts.image_mosaic(weights.images, diverging=True, unit_label="unit"),
    key="weight_mosaic",
)

st.subheader("Which digits excite each unit")
preference = state.class_preference_of(active)
top_digits = preference.favourite_digits(top=3)
unit = st.slider("Unit", 0, count - 1, 0, key="weights_unit")
left, right = st.columns([1, 2])
with left:
    st.plotly_chart(
        charts.image_mosaic(weights.images[unit : unit + 1], diverging=True, unit_label="unit", columns=1, height=260),
        key="single_unit",
    )
with right:
    st.plotly_chart(charts.digit_bars(preference.mean_activation[unit], "mean activation"), key="unit_preference")
    st.caption(f"Unit {unit} responds most to digits {', '.join(str(d) for d in top_digits[unit])}.")

with st.expander("All units: their three favourite digits"):
    st.dataframe(
        pd.DataFrame(
            {
                "1st": top_digits[:, 0],
                "2nd": top_digits[:, 1],
                "3rd": top_digits[:, 2],
                "strongest mean activation": preference.strongest(),
            },
        ).rename_axis("unit"),
        width="stretch",
    )
