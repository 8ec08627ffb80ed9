"""The sidebar's account of an uploaded model: how it was adapted, which pixel scale it gets, and Keep as a run."""

from __future__ import annotations

import streamlit as st

from core.errors import RunStoreError
from dashboard import state


def render_upload_panel(active: state.ActiveModel) -> None:
    """Under the active model: for an upload, its adapter's notes and actions; for a kept upload, where it came from."""
    if active.record is not None and active.record.upload is not None:
        upload = active.record.upload
        adapter = ", with its adapter" if upload.was_adapted else ""
        st.caption(f"Uploaded as `{upload.file_name}` and kept as a run{adapter}.")
        return
    adapted = active.adaptation
    if adapted is None:
        return
    # An upload has loaded TensorFlow already; a saved run, shown on Home without it, never gets here.
    from core.adapters import PIXEL_SCALES, measured_scale, pixel_range
    from core.uploads import keep_as_run

    st.info("\n".join(f"- {note}" for note in adapted.notes()), icon=":material/tune:")
    scale = st.radio(
        "Pixels this model was trained on",
        PIXEL_SCALES,
        index=PIXEL_SCALES.index(adapted.pixel_scale),
        format_func=pixel_range,
        horizontal=True,
        key=f"pixel_scale_{active.upload_digest}",
    )
    if scale != adapted.pixel_scale:
        choice = None if scale == measured_scale(adapted.scale_scores) else scale
        state.activate_upload(active.upload_name, st.session_state[state.UPLOADS_KEY][active.upload_digest], choice)
        st.rerun()
    if st.button("Keep as a run", icon=":material/save:", help="Save it, adapter included, to the run store"):
        data, _ = state.load_data()
        try:
            run = keep_as_run(adapted, active.upload_name, data, state.run_store(), active.evaluation())
        except RunStoreError as error:
            st.error(str(error))
            return
        state.activate_run(run)
        st.rerun()
