"""Digit Lab: the entry point. `streamlit run dashboard/Home.py` from the repository root."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # make `core` and `dashboard` importable

import streamlit as st  # noqa: E402

from dashboard.model_link import restore_active_model  # noqa: E402
from dashboard.page_registry import HOME, SECTIONS  # noqa: E402
from dashboard.sidebar import render_sidebar  # noqa: E402

FAVICON = Path(__file__).with_name("favicon.png")  # a local file: no icon fetched from the internet
st.set_page_config(page_title="Digit Lab", page_icon=str(FAVICON), layout="wide")

navigation = st.navigation(
    {
        section: [st.Page(page.path, title=page.title, icon=page.icon, default=page is HOME) for page in pages]
        for section, pages in SECTIONS.items()
    },
    expanded=True,  # every page in view: Streamlit folds more than ten behind "View more"
)
restore_active_model()
render_sidebar()
navigation.run()
