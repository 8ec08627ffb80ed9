"""Digit Lab: the entry point. `streamlit run dashboard/Home.py` from the repository root."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # make `core` and `dashboard` importable

import streamlit as st  # noqa: E402

from dashboard.sidebar import render_sidebar  # noqa: E402

FAVICON = Path(__file__).with_name("favicon.png")  # a local file: no icon fetched from the internet
st.set_page_config(page_title="Digit Lab", page_icon=str(FAVICON), layout="wide")

navigation = st.navigation(
    [
        st.Page("../pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("../pages/training_curves.py", title="Training curves", icon=":material/show_chart:"),
        st.Page("../pages/class_metrics.py", title="Per-class metrics", icon=":material/table_chart:"),
        st.Page("../pages/misclassifications.py", title="Misclassifications", icon=":material/error:"),
        st.Page("../pages/weights.py", title="Weights", icon=":material/grid_on:"),
        st.Page("../pages/activations.py", title="Activations", icon=":material/hub:"),
        st.Page("../pages/draw.py", title="Draw", icon=":material/draw:"),
    ]
)
render_sidebar()
navigation.run()
