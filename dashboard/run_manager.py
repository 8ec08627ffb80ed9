"""Managing one saved run from the Runs page: rename, tag, annotate, download, delete, load, compare.

Every write goes through core.runs.RunStore (atomic, under the store's lock). An edit sends only the
fields the user changed, so two sessions editing the same run at once keep each other's changes.
"""

from __future__ import annotations

import streamlit as st

from core.errors import RunStoreError
from core.record import Annotations
from core.runs import RunInfo
from dashboard import state
from dashboard.page_registry import PAGES

FLASH_KEY = "run_manager_flash"  # a message that outlives the rerun after a write
COMPARE_PAGE = next(page for page in PAGES if page.script == "compare.py")


def flash(message: str) -> None:
    st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    if message := st.session_state.pop(FLASH_KEY, None):
        st.success(message, icon=":material/check_circle:")


def annotate_form(run: RunInfo) -> None:
    """Name, tags and note of the run; Save writes the fields changed since the form was shown."""
    base_key = f"annotations_shown_{run.run_id}"
    shown: Annotations = st.session_state.setdefault(base_key, run.annotations)
    with st.form(f"annotate_{run.run_id}", border=False):
        name = st.text_input("Name", shown.name, max_chars=60, key=f"run_name_{run.run_id}")
        tags = st.text_input("Tags (comma-separated)", ", ".join(shown.tags), key=f"run_tags_{run.run_id}")
        note = st.text_area("Note", shown.note, max_chars=2000, key=f"run_note_{run.run_id}", height=90)
        submitted = st.form_submit_button("Save", icon=":material/save:")
    if not submitted:
        return
    changes = {}
    if name != shown.name:
        changes["name"] = name
    if [t.strip() for t in tags.split(",") if t.strip()] != list(shown.tags):
        changes["tags"] = [tags]
    if note != shown.note:
        changes["note"] = note
    if not changes:
        st.caption("Nothing changed.")
        return
    try:
        updated = state.run_store().annotate(run.run_id, **changes)
    except RunStoreError as error:
        st.error(str(error))
        return
    for key in (base_key, f"run_name_{run.run_id}", f"run_tags_{run.run_id}", f"run_note_{run.run_id}"):
        st.session_state.pop(key, None)  # the form shows the record as saved, others' changes included
    active = state.active_model()
    if active is not None and active.run is not None and active.run.run_id == run.run_id:
        state.activate_run(updated)  # same model key: nothing reloads, the sidebar shows the new name
    flash(f"Saved {', '.join(changes)} of {run.run_id}.")
    st.rerun()


def download_button(run: RunInfo) -> None:
    """The run's model.keras, read from disk only when the button is clicked."""

    def model_file() -> bytes:
        try:
            return state.run_store().model_bytes(run.run_id)
        except RunStoreError:
            return b""  # deleted meanwhile: an empty file rather than an error in another thread

    st.download_button(
        "Download model (.keras)",
        model_file,
        file_name=f"{run.run_id}.keras",
        mime="application/octet-stream",
        icon=":material/download:",
        key=f"download_{run.run_id}",
    )


def delete_controls(run: RunInfo) -> None:
    """Delete, after a confirmation box is ticked. Sessions that loaded the run keep their copy."""
    confirmed = st.checkbox(f"Yes, delete {run.run_id} for everyone", key=f"confirm_delete_{run.run_id}")
    if st.button("Delete run", icon=":material/delete:", disabled=not confirmed, key=f"delete_{run.run_id}"):
        try:
            state.run_store().delete(run.run_id)
        except RunStoreError as error:
            st.error(str(error))
            return
        flash(f"Deleted {run.run_id}. Sessions that had it loaded keep it until they load another model.")
        st.rerun()


def load_and_compare(run: RunInfo) -> None:
    """Make the run the active model, or open Compare with it beside the active run."""
    active = state.active_model()
    if st.button("Load as the active model", icon=":material/upload:", key=f"activate_{run.run_id}"):
        state.activate_run(run)
        st.rerun()
    if active is not None and active.run is not None and active.run.run_id != run.run_id:
        st.page_link(
            COMPARE_PAGE.path,
            label="Compare with the active run",
            icon=":material/compare_arrows:",
            query_params={"compare": f"{active.run.run_id},{run.run_id}"},
        )


def render_deleted_note(active: state.ActiveModel) -> None:
    """Under the active model in the sidebar: say so when its run was deleted by someone."""
    runs = [active.run] if active.run is not None else list(active.ensemble_runs)
    if any(not run.path.is_dir() for run in runs):
        st.caption("Deleted from the run store; this session keeps the model until it loads another.")
