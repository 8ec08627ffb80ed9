"""Studies: a hyperparameter study read from its storage (journal file or PostgreSQL), while workers run it."""

import optuna
import pandas as pd
import streamlit as st

from core.analysis.studies import StudyOverview, TrialRow, best_first, study_overview
from core.errors import StudyStorageError
from core.study_storage import study_names
from dashboard import state, study_charts
from dashboard.page_registry import heading_of

st.title(heading_of(__file__))
storages = state.study_storages()
if not storages:
    if state.active_model() is None:
        state.require_active_model()  # guidance to a first model, and a stop
    st.info(
        "No study yet. Start one with `python -m core tune` (one command per worker; see docs/scale-out.md), "
        "or set STUDY_STORAGE to a PostgreSQL URL before starting the dashboard.",
        icon=":material/science:",
    )
    st.stop()


def storage_ui():
    labels = {spec.public_name: spec for spec in storages}
    spec = labels[st.selectbox("Storage", list(labels), key="study_storage")] if len(labels) > 1 else storages[0]
    try:
        storage = state.study_storage(spec.kind, spec.location)
        names = study_names(storage)
    except StudyStorageError as error:
        st.error(str(error))
        st.stop()
    return spec, storage, names


def summary_ui(overview: StudyOverview) -> None:
    counts = overview.counts
    columns = st.columns(5)
    columns[0].metric("Trials", len(overview.rows))
    columns[1].metric("Complete", counts.get("complete", 0))
    columns[2].metric("Pruned", counts.get("pruned", 0))
    retried = sum(row.retried for row in overview.rows)
    columns[3].metric("Failed", counts.get("fail", 0), help=f"{retried} of them retried: their worker died")
    columns[4].metric("Running", counts.get("running", 0), help=f"{len(overview.workers)} worker(s) so far")
    if overview.best_value is not None:
        st.markdown(f"**Best:** trial {overview.best_number}, validation accuracy {overview.best_value:.2%}.")


def trials_ui(overview: StudyOverview) -> None:
    params = sorted({name for row in overview.rows for name in row.params})
    table = pd.DataFrame(
        [
            {
                "trial": row.number,
                "state": row.state + (" (retried)" if row.retried else ""),
                "val accuracy": row.value,
                **{name: _shown(row.params.get(name)) for name in params},
                "seconds": row.seconds,
                "worker": row.worker,
                "retry of": "" if row.retry_of is None else f"trial {row.retry_of}",
                "run": row.run_id or "",
            }
            for row in overview.rows
        ]
    )
    st.dataframe(
        table.style.format({"val accuracy": "{:.2%}", "seconds": "{:.1f}"}, na_rep=""),
        hide_index=True,
        width="stretch",
        key="study_trials",
    )


def _shown(value):
    """Parameters as text, so a column mixing numbers and words (or empty cells) shows as given."""
    if value is None:
        return ""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def load_ui(overview: StudyOverview) -> None:
    st.subheader("Load a trial's run")
    runs = {run.run_id: run for run in state.run_listing()[0]}
    loadable: dict[int, TrialRow] = {row.number: row for row in overview.rows if row.run_id in runs}
    if not loadable:
        st.caption("No complete trial has a run in this server's run store (RUNS_DIR) yet.")
        return
    numbers = best_first(loadable.values(), overview.best_number)
    number = st.selectbox(
        "Trial",
        numbers,
        format_func=lambda n: (
            f"trial {n} · {loadable[n].value:.2%} · {loadable[n].params.get('arch', '')}"
            + (" · best" if n == overview.best_number else "")
        ),
        key="study_trial_to_load",
    )
    run = runs[loadable[number].run_id]
    if st.button("Load as the active model", icon=":material/upload:", key="study_load_run"):
        state.activate_run(run)
        st.rerun()
    active = state.active_model()
    if active is not None and active.run is not None and active.run.run_id == run.run_id:
        st.caption(f"Trial {number}'s run `{run.run_id}` is the active model: every page shows it.")


spec, storage, names = storage_ui()
if not names:
    st.info(f"No study in the {spec.public_name} yet.", icon=":material/science:")
    st.stop()
left, right = st.columns([3, 1])
name = left.selectbox("Study", names, key="study_name")
right.button("Refresh", icon=":material/refresh:", help="Read the study again (workers may be running).")
study = optuna.load_study(study_name=name, storage=storage)
trials = study.get_trials(deepcopy=False)
overview = study_overview(name, trials)
summary_ui(overview)
if overview.completions:
    st.plotly_chart(study_charts.best_so_far(overview), key="study_best_so_far")
complete = overview.counts.get("complete", 0)
importances = state.study_importances(spec.kind, spec.location, name, complete)
if importances.values:
    st.plotly_chart(study_charts.importances(importances), key="study_importances")
else:
    st.caption(f"Parameter importances: {importances.reason}.")
trials_ui(overview)
load_ui(overview)
st.caption(
    "Also in Optuna's own dashboard, on the server: `optuna-dashboard` with the same journal file (in the run "
    "store's `.studies` folder) or database URL; see docs/scale-out.md."
)
