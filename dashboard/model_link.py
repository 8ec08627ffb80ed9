"""The active model in the URL: a shared link or a reload opens the same model, a new visitor the default.

`?run=<id>` names a saved run and `?ensemble=<id>,<id>,…` an ensemble; the page is the URL's
path (st.navigation). With neither, a new session starts with the store's default run: the one
pinned by a user, else the best by validation accuracy on the current data. Models are loaded
through the server-wide caches, so fifty visitors on one link cost one model load.
"""

from __future__ import annotations

import streamlit as st

from core.errors import RunStoreError
from core.run_selection import default_run
from dashboard import state

RUN_PARAM = "run"
ENSEMBLE_PARAM = "ensemble"
LINK_PROBLEM_KEY = "model_link_problem"  # what was wrong with the link this session opened, shown once


def restore_active_model() -> None:
    """Give a session without a model the one its URL names, else the default; then mirror it in the URL."""
    if state.active_model() is None:
        try:
            activate_from_link()
        except RunStoreError:  # the error names the store's folder: not for visitors' eyes
            st.session_state[LINK_PROBLEM_KEY] = (
                "The model this link names is not in this server's run store; showing the default model."
            )
        if state.active_model() is None:
            activate_default()
    write_to_url(state.active_model())


def activate_from_link() -> None:
    """Activate the run or ensemble named in the URL, if any (raises RunStoreError for unknown runs)."""
    store = state.run_store()
    if run_id := st.query_params.get(RUN_PARAM):
        state.activate_run(store.get(run_id))
    elif ensemble := st.query_params.get(ENSEMBLE_PARAM):
        run_ids = [run_id for run_id in ensemble.split(",") if run_id]
        if len(run_ids) < 2:
            raise RunStoreError("an ensemble needs at least two runs")
        state.activate_ensemble([store.get(run_id) for run_id in run_ids])


def activate_default() -> None:
    store = state.run_store()
    runs, _ = store.list_runs()
    data, _ = state.load_data()
    run = default_run(runs, data, store.pinned_default())
    if run is not None:
        state.activate_run(run)


def write_to_url(active: state.ActiveModel | None) -> None:
    """Mirror the active model in the URL (an uploaded model has no link: the URL names none)."""
    wanted = {}
    if active is not None and active.run is not None:
        wanted[RUN_PARAM] = active.run.run_id
    elif active is not None and active.ensemble_runs:
        wanted[ENSEMBLE_PARAM] = ",".join(run.run_id for run in active.ensemble_runs)
    for param in (RUN_PARAM, ENSEMBLE_PARAM):
        if param in wanted and st.query_params.get(param) != wanted[param]:
            st.query_params[param] = wanted[param]
        elif param not in wanted and param in st.query_params:
            del st.query_params[param]


def pop_link_problem() -> str | None:
    return st.session_state.pop(LINK_PROBLEM_KEY, None)
