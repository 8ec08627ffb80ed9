"""Home: what each page shows, the active model, and a one-click quick model."""

import streamlit as st

from core.config import QUICK_MODEL
from dashboard import state
from dashboard.page_registry import HOME, SECTIONS
from dashboard.sidebar import session_job_status, start_training

st.title(HOME.heading)
st.markdown(
    "Train, understand and demonstrate handwritten-digit classifiers on MNIST. "
    "Train or load a model in the sidebar; every page then shows that model."
)

active = state.active_model()
runs, _ = state.run_listing()
job = session_job_status()

if active is not None:
    st.success(f"**Active model:** {active.label}")  # a run's label ends with its test accuracy

st.subheader("Get started" if active is None else "Train one live")
if job is not None and job.is_active:
    st.info("A model is training; follow its progress in the sidebar. Every page is usable meanwhile.")
else:
    if active is None:
        st.markdown(
            "No model is active. Train the seed MLP (Flatten → Dense 128 relu → Dropout → Dense 10 softmax) "
            "for three epochs with one click, or load a saved run from the sidebar."
            if not runs
            else f"{len(runs)} saved run(s) in the store: load one from the sidebar, or train a quick model."
        )
    else:
        st.markdown(
            "Train the seed MLP (Flatten → Dense 128 relu → Dropout → Dense 10 softmax) for three epochs: "
            "about half a minute, with live progress in the sidebar; it becomes the active model when done."
        )
    if st.button("Train a quick model", type="primary", icon=":material/bolt:"):
        start_training(QUICK_MODEL)
        st.rerun()

for section, pages in SECTIONS.items():
    if section:  # Home's own group is Home
        st.subheader(section)
        for page in pages:
            with st.container(border=True):
                st.page_link(page.path, label=page.title, icon=page.icon)
                st.caption(page.description)
