"""The sidebar's "Download report (HTML)": the active model's self-contained report (core/report.py).

The report is built only when the button is clicked, by Streamlit's deferred download, on a thread
of its own: nothing here calls Streamlit there. The model, the data and any robustness curves this
server already measured are picked up in the script run; the finished HTML is kept per model and
data for every visitor (a few MB each, a handful of them).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from core.analysis.robustness import DEFAULT_SAMPLE
from core.data import MnistData
from core.runs import RunStore
from core.tf_startup import start_tensorflow
from dashboard import robustness_store, state

if TYPE_CHECKING:  # the button shows on Home before TensorFlow is imported; a click imports it
    import keras

MAX_REPORTS = 4


@st.cache_resource
def _reports() -> tuple[dict[tuple[str, str], str], threading.Lock]:
    return {}, threading.Lock()


def render_report_download(active: state.ActiveModel) -> None:
    data, _ = state.load_data()
    st.download_button(
        "Download report (HTML)",
        data=report_builder(active, data),
        file_name=f"digit-lab-report-{slug(active.run.run_id if active.run else active.label)}.html",
        mime="text/html",
        on_click="ignore",
        icon=":material/download:",
        key="report_download",
        help="One HTML file to open anywhere, offline: configuration, training curves, metrics, confusion "
        "matrix, top errors, calibration, label-issue suspects, and robustness once measured here. "
        "Takes a few seconds the first time.",
    )


def report_builder(active: state.ActiveModel, data: MnistData) -> Callable[[], str]:
    """What the download calls: everything Streamlit-bound is read now, the report built on click."""
    reports, lock = _reports()
    key = (active.key, data.description)
    held = st.session_state.get(state.HELD_MODEL_KEY)
    model = held[1] if held is not None and held[0] == active.key else None
    adaptation = active.adaptation
    if adaptation is not None:
        model = adaptation.model
    sizes = (DEFAULT_SAMPLE, None)  # the Robustness page's sample, or the whole test set
    measured = [robustness_store.stored(active.key, data.description, size) for size in sizes]
    robustness = next((curves for curves in measured if curves is not None), None)
    runs = (active.run,) if active.run is not None else active.ensemble_runs
    name, record = active.label, active.record
    description = ""
    if adaptation is not None:
        description = f"uploaded file {active.upload_name}. " + " ".join(adaptation.notes())
    elif active.ensemble_runs:
        description = f"the average of {len(runs)} runs' probabilities"

    def build() -> str:
        with lock:
            if key in reports:
                return reports[key]
        start_tensorflow()  # waits for TensorFlow if a start is under way; no Streamlit call
        from core.report import analyse_model, build_report, render_html, temperature_of

        nonlocal model
        if model is None:
            model = _load(runs)
        scaling, where = temperature_of(model, runs, data)
        report = analyse_model(
            name,
            model,
            data,
            record=record,
            members=[run.run_id for run in active.ensemble_runs],
            description=description,
            calibration=scaling,
            calibration_source=where,
            robustness=robustness,
        )
        text = render_html(build_report([report], data))
        with lock:
            reports[key] = text
            while len(reports) > MAX_REPORTS:
                reports.pop(next(iter(reports)))
        return text

    return build


def _load(runs) -> keras.Model:
    from core.ensemble import build_ensemble

    models = [RunStore(run.path.parent).load_model(run.run_id) for run in runs]
    return models[0] if len(models) == 1 else build_ensemble(models)


def slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-")[:60] or "model"
