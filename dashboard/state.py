"""What a session shares across pages (the active model) and what the server caches.

Importing this module imports no TensorFlow, so Home and the sidebar show without it: the analyses
and model loading import it where a page first uses them (the entry script starts TensorFlow before
any page that shows a model, tests/process/test_lazy_tensorflow.py keeps it so).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from core.data import MnistData, load_with_fallback
from core.jobs import JobManager
from core.record import RunRecord, TemperatureScaling
from core.runs import DamagedRun, RunInfo, RunStore
from core.tf_startup import start_tensorflow
from dashboard.inline_images import png_data_uri
from dashboard.page_registry import HOME
from dashboard.script_runs import keep_keras_between_runs

if TYPE_CHECKING:  # TensorFlow (and Optuna): the functions below import them when first called
    import keras
    from optuna.storages import BaseStorage

    from core.adapters import AdaptedModel
    from core.analysis.calibration import CalibrationReport, CoverageCurve
    from core.analysis.embedding import EmbeddingMap, EmbeddingSample
    from core.analysis.evaluation import Evaluation
    from core.analysis.inspection import ClassPreference
    from core.analysis.label_issues import LabelIssues
    from core.analysis.saliency import SaliencyMap
    from core.analysis.studies import Importances
    from core.embedding_jobs import TsneJobs
    from core.label_issue_jobs import OutOfSampleJobs
    from core.study_storage import StorageSpec

keep_keras_between_runs()  # else each script run, every stroke on Draw included, ends in a 0.3 s gc.collect()

ACTIVE_KEY = "active_model"
# Session-state keys that several pages share.
SELECTED_TEST_INDEX_KEY = "selected_test_index"  # set by Misclassifications' Inspect, read by Activations
LAST_DRAWN_DIGIT_KEY = "last_drawn_digit"  # the 28×28 of the last drawing, set by Draw, read by Activations
PREFERENCE_IMAGES = 2000  # test images used to find each first-layer unit's favourite digits
UPLOADS_KEY = "uploaded_models"
# The session's calibration choices, set on the Calibration page and read wherever probabilities show.
CALIBRATED_KEY = "calibrated_probabilities"  # show temperature-scaled probabilities (default off)
THRESHOLD_KEY = "confidence_threshold"  # selective prediction: answer at this confidence or above
NOT_SURE_KEY = "draw_answers_not_sure"  # Draw says "not sure" under the threshold (default off)
DEFAULT_THRESHOLD = 0.9
LISTING_TTL_SECONDS = 30  # the longest a run folder damaged in place stays listed as complete


# ---- server-wide caches ------------------------------------------------------------------------


@st.cache_resource(show_spinner="Loading MNIST…")
def load_data() -> tuple[MnistData, str | None]:
    """The dataset (shared read-only by every session) and any problem with MNIST_DIR."""
    return load_with_fallback()


@st.cache_resource
def job_manager() -> JobManager:
    """The server's training jobs: they outlive page switches and browser reloads."""
    return JobManager()


def run_store() -> RunStore:
    return RunStore()


def run_listing() -> tuple[tuple[RunInfo, ...], tuple[DamagedRun, ...]]:
    """The store's runs (newest first) and damaged folders, read from disk only when the store changed.

    The sidebar lists them on every page visit of every session. Saving or deleting a run renames
    a folder in the store, which changes the store's signature; the ttl catches a run folder
    damaged in place, which does not.
    """
    root = run_store().root
    return _read_listing(str(root), _store_signature(root))


def _store_signature(root: Path) -> tuple[int, tuple[str, ...]] | None:
    """The store folder's mtime and entries: a run saved or deleted changes both (the names even
    when two changes fall within one tick of a coarse filesystem clock)."""
    try:
        return root.stat().st_mtime_ns, tuple(sorted(os.listdir(root)))
    except OSError:  # no store yet
        return None


@st.cache_resource(ttl=LISTING_TTL_SECONDS, max_entries=8, show_spinner=False)
def _read_listing(root: str, signature: tuple | None) -> tuple[tuple[RunInfo, ...], tuple[DamagedRun, ...]]:
    """One read of the store per (root, signature): the signature is only part of the cache key."""
    runs, damaged = RunStore(root).list_runs()
    return tuple(runs), tuple(damaged)


@st.cache_resource(max_entries=8, show_spinner="Loading the model…")
def load_run_model(store_root: str, run_id: str) -> keras.Model:
    return RunStore(store_root).load_model(run_id)


@st.cache_resource(max_entries=4, show_spinner="Loading the ensemble…")
def load_ensemble(store_root: str, run_ids: tuple[str, ...]) -> keras.Model:
    """Fresh copies of the members (build_ensemble renames them), averaged as one model."""
    from core.ensemble import build_ensemble

    store = RunStore(store_root)
    return build_ensemble([store.load_model(run_id) for run_id in run_ids])


@st.cache_resource(max_entries=4, show_spinner="Loading the uploaded model…")
def load_uploaded_model(
    digest: str, pixel_scale: float | None, _content: bytes, _name: str = "the uploaded file"
) -> AdaptedModel:
    """The uploaded file adapted to the app's convention, measured on test images (or at the user's pixel scale)."""
    start_tensorflow()  # an upload may come from Home's sidebar, before any page needed TensorFlow
    from core.adapters import load_user_model

    data, _ = load_data()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "uploaded.keras"
        path.write_bytes(_content)
        return load_user_model(path, data.x_test, data.y_test, pixel_scale, display_name=_name)


@st.cache_resource(max_entries=16, show_spinner="Evaluating on the test set…")
def evaluation_of(model_key: str, data_description: str, _model: keras.Model) -> Evaluation:
    """One batched pass over the test set per model (and data), shared by all pages and sessions."""
    from core.analysis.evaluation import evaluate

    data, _ = load_data()
    return evaluate(_model, data.x_test, data.y_test)


@st.cache_data(max_entries=8, show_spinner="Measuring which digits excite each unit…")
def _class_preference(model_key: str, data_description: str, _model: keras.Model) -> ClassPreference:
    from core.analysis.inspection import class_preference

    data, _ = load_data()
    return class_preference(_model, data.x_test[:PREFERENCE_IMAGES], data.y_test[:PREFERENCE_IMAGES])


def class_preference_of(active: ActiveModel) -> ClassPreference:
    """The inspected model's first-layer preference per digit, computed once per model and data."""
    data, _ = load_data()
    return _class_preference(active.key, data.description, active.inspected_model)


# ---- embedding map ----
EMBEDDING_SAMPLE_SIZE = 2000  # test images on the embedding map by default
EMBEDDING_MAX_SAMPLE_SIZE = 10_000


@st.cache_resource(max_entries=8, show_spinner="Computing the penultimate layer's features…")
def _embedding_sample(model_key: str, data_description: str, size: int, _model, _predictions) -> EmbeddingSample:
    from core.analysis.embedding import embedding_sample

    data, _ = load_data()
    return embedding_sample(_model, data.x_test, data.y_test, _predictions, size)


def embedding_sample_of(active: ActiveModel, size: int) -> EmbeddingSample:
    """A stratified test sample with the inspected model's penultimate features and the active model's
    predictions, computed once per model, data and size."""
    data, _ = load_data()
    predictions = active.evaluation().predictions
    return _embedding_sample(active.key, data.description, size, active.inspected_model, predictions)


@st.cache_resource(max_entries=8, show_spinner="Projecting to 2-D…")
def _pca_map(model_key: str, data_description: str, size: int, _sample: EmbeddingSample) -> EmbeddingMap:
    from core.analysis.embedding import pca_map

    return pca_map(_sample)


def pca_map_of(active: ActiveModel, size: int) -> EmbeddingMap:
    data, _ = load_data()
    return _pca_map(active.key, data.description, size, embedding_sample_of(active, size))


@st.cache_resource
def tsne_jobs() -> TsneJobs:
    """The server's t-SNE maps, running or done: a second visit, from any session, finds its map."""
    from core.embedding_jobs import TsneJobs

    return TsneJobs()


def tsne_key(active: ActiveModel, size: int) -> tuple[str, str, int]:
    data, _ = load_data()
    return active.key, data.description, size


@st.cache_resource(max_entries=32, show_spinner="Placing your digit on the map…")
def _placed_digit(
    model_key: str, data_description: str, size: int, method: str, digest: str, _map: EmbeddingMap, _model, _image
) -> tuple[float, float]:
    from core.analysis.embedding import penultimate_features, place_points

    (point,) = place_points(_map, penultimate_features(_model, _image[None]))
    return float(point[0]), float(point[1])


def placed_digit(active: ActiveModel, size: int, embedding_map: EmbeddingMap, image) -> tuple[float, float]:
    """Where a 28×28 image (the last drawing) falls on the map, computed once per drawing and map."""
    data, _ = load_data()
    digest = hashlib.sha256(np.ascontiguousarray(image, dtype=np.float32).tobytes()).hexdigest()
    key = (active.key, data.description, size, embedding_map.method, digest)
    return _placed_digit(*key, embedding_map, active.inspected_model, np.asarray(image, dtype=np.float32))


@st.cache_resource(max_entries=8, show_spinner=False)
def sample_thumbnails(data_description: str, indices: tuple[int, ...]) -> list[str]:
    """The sample's test digits as PNG data URIs (the map's tooltips), made once per sample."""
    data, _ = load_data()
    return [png_data_uri(data.x_test[index]) for index in indices]


# ---- saliency ----------------------------------------------------------------------------------------


@st.cache_data(max_entries=64, show_spinner="Computing the saliency map…")
def _saliency(model_key: str, image, method: str, target: int, contrast, baseline: str, _model) -> SaliencyMap:
    from core.analysis.saliency import saliency

    return saliency(_model, image, method, target, contrast, baseline)


def saliency_of(active: ActiveModel, image, method: str, target: int, contrast, baseline: str) -> SaliencyMap:
    """The active model's saliency map for one image (cached per model, image and choice)."""
    return _saliency(active.key, image, method, target, contrast, baseline, active.model)


def model_convolves(active: ActiveModel) -> bool:
    """Whether Grad-CAM applies to the active model."""
    from core.analysis.saliency import has_convolution

    return has_convolution(active.model)


# ---- calibration ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelCalibration:
    """A model's temperature and where it was fitted, in words for the user."""

    scaling: TemperatureScaling
    fitted_on: str  # "the validation split this run held out in training (6,000 images)"
    caveat: str | None = None  # why the model may have trained on those images
    recorded: bool = False  # read from run.json (fitted at the end of training) rather than fitted here

    @property
    def temperature(self) -> float:
        return self.scaling.temperature


def calibration_of(active: ActiveModel) -> ModelCalibration:
    """The active model's temperature: from run.json when training recorded it, else fitted once per model and data.

    The fit is one batched pass over held-out images (core.analysis.calibration.images_to_fit_on),
    never over the test set, cached for every session.
    """
    record = active.record
    if record is not None and record.calibration is not None:
        scaling = record.calibration
        where = f"the validation split this run held out in training ({scaling.images:,} images), when it was trained"
        return ModelCalibration(scaling, where, recorded=True)
    data, _ = load_data()
    return _fitted_calibration(active.key, data.description, active)


@st.cache_resource(max_entries=16, show_spinner="Fitting a temperature on held-out images…")
def _fitted_calibration(model_key: str, data_description: str, _active: ActiveModel) -> ModelCalibration:
    from core.analysis.calibration import fit_model_temperature, images_to_fit_on

    data, _ = load_data()
    runs = (_active.run,) if _active.run is not None else _active.ensemble_runs
    fit_images = images_to_fit_on(runs, data)
    scaling = fit_model_temperature(_active.model, fit_images)
    return ModelCalibration(scaling, fit_images.description, fit_images.caveat)


def calibrated_probabilities_on() -> bool:
    """Whether this session shows temperature-scaled probabilities (the Calibration page's toggle)."""
    return bool(st.session_state.get(CALIBRATED_KEY, False))


def displayed_temperature(active: ActiveModel) -> float | None:
    """The temperature the session's probabilities are shown at; None for the model's own probabilities."""
    return calibration_of(active).temperature if calibrated_probabilities_on() else None


def displayed_evaluation(active: ActiveModel) -> Evaluation:
    """The test-set evaluation as this session shows probabilities: temperature-scaled when the toggle is on.

    Predictions (argmax) are the same either way; confidences and probability bars differ.
    """
    evaluation = active.evaluation()
    temperature = displayed_temperature(active)
    if temperature is None:
        return evaluation
    data, _ = load_data()
    return _scaled_evaluation(active.key, data.description, temperature, evaluation)


@st.cache_resource(max_entries=16, show_spinner=False)
def _scaled_evaluation(
    model_key: str, data_description: str, temperature: float, _evaluation: Evaluation
) -> Evaluation:
    from core.analysis.calibration import scaled_evaluation

    return scaled_evaluation(_evaluation, temperature)


def calibration_reports(active: ActiveModel) -> tuple[CalibrationReport, CalibrationReport]:
    """The test set's calibration before (T = 1) and after temperature scaling, computed once per model and data."""
    data, _ = load_data()
    temperature = calibration_of(active).temperature
    return _calibration_reports(active.key, data.description, temperature, active.evaluation())


@st.cache_resource(max_entries=16, show_spinner=False)
def _calibration_reports(
    model_key: str, data_description: str, temperature: float, _evaluation: Evaluation
) -> tuple[CalibrationReport, CalibrationReport]:
    from core.analysis.calibration import calibration_report

    before = calibration_report(_evaluation.probabilities, _evaluation.labels)
    after = calibration_report(_evaluation.probabilities, _evaluation.labels, temperature)
    return before, after


def coverage_curves(active: ActiveModel) -> dict[str, CoverageCurve]:
    """Accuracy against coverage on the test set, with the model's own and the temperature-scaled confidences."""
    data, _ = load_data()
    temperature = calibration_of(active).temperature
    return _coverage_curves(active.key, data.description, temperature, active.evaluation())


@st.cache_resource(max_entries=16, show_spinner=False)
def _coverage_curves(
    model_key: str, data_description: str, temperature: float, _evaluation: Evaluation
) -> dict[str, CoverageCurve]:
    from core.analysis.calibration import accuracy_coverage_curve, scaled_evaluation

    correct = _evaluation.predictions == _evaluation.labels
    scaled = scaled_evaluation(_evaluation, temperature)
    return {
        "model's own": accuracy_coverage_curve(_evaluation.confidences, correct),
        "temperature-scaled": accuracy_coverage_curve(scaled.confidences, correct),
    }


def remembered(widget, label: str, key: str, default, **kwargs):
    """`widget` (st.toggle, st.slider, …) whose value is kept in session state under `key` across pages.

    Streamlit forgets a widget's state on a page that does not show it; the value is copied to
    `key`, a plain session-state entry, whenever it changes, and the widget starts from it.
    """
    widget_key = f"{key}_widget"

    def remember() -> None:
        st.session_state[key] = st.session_state[widget_key]

    return widget(label, value=st.session_state.get(key, default), key=widget_key, on_change=remember, **kwargs)


def confidence_threshold() -> float:
    return float(st.session_state.get(THRESHOLD_KEY, DEFAULT_THRESHOLD))


def not_sure_threshold() -> float | None:
    """The confidence under which Draw answers "not sure"; None when the user has not asked for it."""
    return confidence_threshold() if st.session_state.get(NOT_SURE_KEY, False) else None


# ---- the session's active model ------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveModel:
    """The model every page of this session shows: a saved run, or an uploaded file."""

    key: str
    label: str
    run: RunInfo | None = None
    upload_digest: str | None = None
    upload_name: str = ""
    upload_pixel_scale: float | None = None  # the user's choice; None: as measured
    ensemble_runs: tuple[RunInfo, ...] = ()

    @property
    def model(self) -> keras.Model:
        if self.run is not None:
            return held_model(self.key, lambda: load_run_model(str(self.run.path.parent), self.run.run_id))
        if self.ensemble_runs:
            store_root = str(self.ensemble_runs[0].path.parent)
            run_ids = tuple(run.run_id for run in self.ensemble_runs)
            return held_model(self.key, lambda: load_ensemble(store_root, run_ids))
        return self.adaptation.model

    @property
    def adaptation(self) -> AdaptedModel | None:
        """How an uploaded model was adapted to the app's convention; None for a saved run or an ensemble."""
        if self.upload_digest is None:
            return None
        content = st.session_state[UPLOADS_KEY][self.upload_digest]
        return load_uploaded_model(self.upload_digest, self.upload_pixel_scale, content, self.upload_name)

    @property
    def inspected_model(self) -> keras.Model:
        """The model whose layers the Weights and Activations pages show (an ensemble's first member)."""
        from core.ensemble import inspectable_model

        return inspectable_model(self.model)

    def evaluation(self) -> Evaluation:
        data, _ = load_data()
        return evaluation_of(self.key, data.description, self.model)

    @property
    def record(self) -> RunRecord | None:
        """The saved run's record; None for an ensemble or an uploaded file."""
        return self.run.record if self.run else None


def activate_run(run: RunInfo) -> None:
    st.session_state[ACTIVE_KEY] = ActiveModel(key=f"run:{run.path}", label=run.label, run=run)


def activate_ensemble(runs: list[RunInfo]) -> None:
    """Make the average of several saved runs the active model."""
    key = "ensemble:" + ",".join(sorted(str(run.path) for run in runs))
    label = f"ensemble of {len(runs)} runs"
    st.session_state[ACTIVE_KEY] = ActiveModel(key=key, label=label, ensemble_runs=tuple(runs))


def activate_upload(name: str, content: bytes, pixel_scale: float | None = None) -> None:
    """Load and adapt an uploaded .keras file (raises ModelFileError) and make it the active model.

    `pixel_scale` (1 or 255) overrides the pixel scaling measured on test images.
    """
    digest = hashlib.sha256(content).hexdigest()[:16]
    st.session_state.setdefault(UPLOADS_KEY, {})[digest] = content
    load_uploaded_model(digest, pixel_scale, content, name)  # fails here, before it becomes active
    key = f"upload:{digest}" if pixel_scale is None else f"upload:{digest}:pixels-0-{pixel_scale:g}"
    st.session_state[ACTIVE_KEY] = ActiveModel(
        key=key, label=f"uploaded {name}", upload_digest=digest, upload_name=name, upload_pixel_scale=pixel_scale
    )


def active_model() -> ActiveModel | None:
    return st.session_state.get(ACTIVE_KEY)


def model_to_inspect(active: ActiveModel) -> keras.Model:
    """The model whose layers a page shows; for an ensemble, its first member, with a note saying so."""
    model = active.inspected_model
    if active.ensemble_runs:
        st.caption(f"The active model is an ensemble; this page shows its first member, `{model.name}`.")
    return model


def require_active_model() -> ActiveModel:
    """The active model, or guidance to get one and a stop of the page."""
    active = active_model()
    if active is None:
        st.info(
            "No model yet. Train one in the sidebar (**Train a new model**), load a saved run, "
            "or go to **Home** for a one-click quick model.",
            icon=":material/model_training:",
        )
        st.page_link(HOME.path, label="Go to Home", icon=":material/home:")
        st.stop()
    return active


# ---- label issues ----


@st.cache_resource(max_entries=16, show_spinner="Ranking the test labels…")
def _test_label_issues(model_key: str, data_description: str, _evaluation: Evaluation) -> LabelIssues:
    from core.analysis.label_issues import rank_label_issues

    return rank_label_issues(_evaluation.labels, _evaluation.probabilities)


def label_issues_of(active: ActiveModel) -> LabelIssues:
    """cleanlab's ranking of the test labels under the active model, once per model and data.

    The test set is out of sample for every model here (none trains on it), so its evaluation's
    probabilities serve as they are.
    """
    data, _ = load_data()
    return _test_label_issues(active.key, data.description, active.evaluation())


@st.cache_resource
def out_of_sample_jobs() -> OutOfSampleJobs:
    """Training-set label issues per (data, budget), server-wide: they depend on no visitor's model."""
    from core.label_issue_jobs import OutOfSampleJobs

    return OutOfSampleJobs()


# ---- run management ----


HELD_MODEL_KEY = "held_model"  # (model key, model): the session's active model, kept while its run may vanish


def held_model(key: str, load) -> keras.Model:
    """The model of `key` as this session first loaded it, so a run deleted meanwhile keeps working here.

    The server-wide cache (load_run_model) may drop the model, and another session may delete
    its folder; the session holds its own reference to the active model only (one per session).
    """
    held = st.session_state.get(HELD_MODEL_KEY)
    if held is not None and held[0] == key:
        return held[1]
    model = load()
    st.session_state[HELD_MODEL_KEY] = (key, model)
    return model


def run_evaluation(run: RunInfo) -> Evaluation:
    """A saved run's evaluation on the loaded test set, through the same caches as the active model's."""
    data, _ = load_data()
    key = f"run:{run.path}"  # as activate_run names it: the active run's evaluation is reused
    held = st.session_state.get(HELD_MODEL_KEY)
    model = held[1] if held is not None and held[0] == key else load_run_model(str(run.path.parent), run.run_id)
    return evaluation_of(key, data.description, model)


# ---- hyperparameter studies ----


def study_storages() -> list[StorageSpec]:
    """The study storages this server reads: STUDY_STORAGE when set, and the run store's journal when it exists.

    Visitors choose among these; they cannot point the server at another database.
    """
    from core.study_storage import STORAGE_ENV, default_journal, parse_storage  # Optuna: only for Studies

    root = run_store().root
    specs = []
    if os.environ.get(STORAGE_ENV, "").strip():
        specs.append(parse_storage(None, root))
    journal = default_journal(root)
    if Path(journal.location).is_file() and journal not in specs:
        specs.append(journal)
    return specs


@st.cache_resource(max_entries=4, show_spinner="Opening the study storage…")
def study_storage(kind: str, location: str) -> BaseStorage:
    """One open storage per server (a database's connection pool, a journal's replayed log); read-only use."""
    from core.study_storage import StorageSpec, open_storage

    return open_storage(StorageSpec(kind, location), for_workers=False)


@st.cache_data(max_entries=16, show_spinner="Computing parameter importances…")
def study_importances(kind: str, location: str, study_name: str, complete_trials: int) -> Importances:
    """Parameter importances, computed again only when the number of complete trials changed."""
    import optuna

    from core.analysis.studies import parameter_importances

    study = optuna.load_study(study_name=study_name, storage=study_storage(kind, location))
    return parameter_importances(study)
