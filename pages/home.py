"""Home: what each page shows, the active model, and a one-click quick model."""

import streamlit as st

from core.config import QUICK_MODEL
from dashboard import state
from dashboard.sidebar import session_job_status, start_training

st.title("Digit Lab")
st.markdown(
    "Train, understand and demonstrate handwritten-digit classifiers on MNIST. "
    "Train or load a model in the sidebar; every page then shows that model."
)

PAGE_GUIDE = [
    (
        "../pages/training_curves.py",
        "Training curves",
        "loss and accuracy per epoch, training vs validation, "
        "with the best epoch and the early-stopping point, and the run's configuration.",
    ),
    (
        "../pages/class_metrics.py",
        "Per-class metrics",
        "precision, recall, F1 and support per digit, the "
        "confusion matrix, and the pairs of digits the model mixes up most.",
    ),
    (
        "../pages/misclassifications.py",
        "Misclassifications",
        "a gallery of the test digits the model gets "
        "wrong, filtered by true and predicted digit, sorted by confidence.",
    ),
    (
        "../pages/weights.py",
        "Weights",
        "what the first hidden layer has learned, each unit's weights as an "
        "image, and which digits excite each unit most.",
    ),
    (
        "../pages/activations.py",
        "Activations",
        "every layer's response to one image, down to the output probabilities.",
    ),
    ("../pages/draw.py", "Draw", "draw a digit (or upload a photo of one) and watch the prediction live."),
]

active = state.active_model()
runs, _ = state.run_listing()
job = session_job_status()

if active is not None:
    accuracy = active.run.test_accuracy if active.run else None
    summary = f"**Active model:** {active.label}"
    st.success(summary + (f" — test accuracy {accuracy:.2%}" if accuracy is not None else ""))
else:
    st.subheader("Get started")
    if job is not None and job.is_active:
        st.info("A model is training; follow its progress in the sidebar. Every page is usable meanwhile.")
    else:
        st.markdown(
            "No model is active. Train the seed MLP (Flatten → Dense 128 relu → Dropout → Dense 10 softmax) "
            "for three epochs with one click, or load a saved run from the sidebar."
            if not runs
            else f"{len(runs)} saved run(s) in the store: load one from the sidebar, or train a quick model."
        )
        if st.button("Train a quick model", type="primary", icon=":material/bolt:"):
            start_training(QUICK_MODEL)
            st.rerun()

st.subheader("Pages")
for path, title, description in PAGE_GUIDE:
    with st.container(border=True):
        st.page_link(path, label=title)
        st.caption(description)
