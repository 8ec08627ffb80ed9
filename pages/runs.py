"""Runs: every saved run, sorted and filtered; rename, tag, annotate, download or delete one."""

import pandas as pd
import streamlit as st

from core.run_catalog import SORT_KEYS, RunFilter, all_tags, filter_runs, sort_runs
from dashboard import run_manager, state
from dashboard.page_registry import heading_of

ALL = "all"

st.title(heading_of(__file__))
runs, damaged = state.run_listing()
if not runs:
    if state.active_model() is None:
        state.require_active_model()  # guidance to a first model, and a stop
    st.info("No saved runs yet.", icon=":material/folder_off:")
    st.stop()
run_manager.show_flash()


def filters_ui() -> tuple[RunFilter, str, bool]:
    columns = st.columns([1, 1, 2, 1, 1])
    by = columns[0].selectbox("Sort by", SORT_KEYS, key="runs_sort")
    descending = columns[1].selectbox("Order", ["descending", "ascending"], key="runs_order") == "descending"
    archs = columns[2].multiselect("Architecture", sorted({run.config.arch for run in runs}), key="runs_archs")
    studies = sorted({run.study for run in runs} - {None})
    study = columns[3].selectbox("Study", [ALL, *studies], key="runs_study")
    tag = columns[4].selectbox("Tag", [ALL, *all_tags(runs)], key="runs_tag")
    left, right = st.columns([1, 3])
    min_accuracy = left.number_input("Test accuracy at least (%)", 0.0, 100.0, 0.0, 1.0, key="runs_min_accuracy")
    text = right.text_input("Search id, name and note", key="runs_search")
    run_filter = RunFilter(
        archs=tuple(archs),
        study=None if study == ALL else study,
        tag=None if tag == ALL else tag,
        min_accuracy=min_accuracy / 100 if min_accuracy > 0 else None,
        text=text,
    )
    return run_filter, by, descending


def table_ui(listing) -> None:
    rows = [
        {
            "run": run.run_id,
            "name": run.annotations.name,
            "tags": ", ".join(run.annotations.tags),
            "architecture": run.config.arch,
            "study": run.study or "",
            "test accuracy": run.test_accuracy,
            "created": run.record.created.replace("T", " ")[:16],
            "parameters": run.record.parameters,
            "note": run.annotations.note,
        }
        for run in listing
    ]
    table = pd.DataFrame(rows)
    st.dataframe(
        table.style.format({"test accuracy": "{:.2%}", "parameters": "{:,.0f}"}, na_rep="n/a"),
        hide_index=True,
        width="stretch",
    )


def manage_ui(listing) -> None:
    st.subheader("Manage a run")
    labels = {run.run_id: run.label for run in listing}
    run_id = st.selectbox("Run", list(labels), format_func=labels.get, key="manage_run")
    run = next(run for run in listing if run.run_id == run_id)
    left, right = st.columns([3, 2])
    with left:
        run_manager.annotate_form(run)
    with right:
        run_manager.load_and_compare(run)
        run_manager.download_button(run)
        run_manager.delete_controls(run)


run_filter, by, descending = filters_ui()
listing = sort_runs(filter_runs(runs, run_filter), by, descending)
st.caption(f"{len(listing)} of {len(runs)} saved runs.")
if damaged:
    st.caption(f"Skipped {len(damaged)} damaged run folder(s).")
if not listing:
    st.info("No run matches these filters.")
    st.stop()
table_ui(listing)
manage_ui(listing)
