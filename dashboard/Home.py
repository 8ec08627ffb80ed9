"""Digit Lab: the entry point. `streamlit run dashboard/Home.py` from the repository root."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # make `core` and `dashboard` importable

import streamlit as st  # noqa: E402

from core.tf_startup import start_tensorflow, start_tensorflow_in_background  # noqa: E402
from dashboard.model_link import restore_active_model  # noqa: E402
from dashboard.page_registry import HOME, PAGES, SECTIONS  # noqa: E402
from dashboard.sidebar import render_sidebar  # noqa: E402

FAVICON = Path(__file__).with_name("favicon.png")  # a local file: no icon fetched from the internet
# TensorFlow's background start waits this long after Home ran: the browser is still fetching Home's
# scripts and fonts from this server, and the import, holding the GIL, made Home's buttons and links
# show late. A page that needs TensorFlow sooner starts it at once.
BACKGROUND_START_DELAY_SECONDS = 2.0
st.set_page_config(page_title="Digit Lab", page_icon=str(FAVICON), layout="wide")

st_pages = {page: st.Page(page.path, title=page.title, icon=page.icon, default=page is HOME) for page in PAGES}
navigation = st.navigation(
    {section: [st_pages[page] for page in pages] for section, pages in SECTIONS.items()},
    expanded=True,  # every page in view: Streamlit folds more than ten behind "View more"
)
# Home and the sidebar need no TensorFlow (its import takes seconds): Home shows without it, and it
# starts in the background once Home is shown. Every other page shows a model: TensorFlow first,
# waiting for a start under way.
on_home = navigation is st_pages[HOME]
if not on_home:
    start_tensorflow()
restore_active_model()
render_sidebar()
navigation.run()
if on_home:
    start_tensorflow_in_background(delay=BACKGROUND_START_DELAY_SECONDS)
