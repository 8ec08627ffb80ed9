"""The Compare and Runs pages, driven headless with Streamlit's AppTest on the offline sample.

The module's store holds copies of three of the session's tiny runs; tests that write get a private copy.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.analysis.comparison import compare, disagreements
from core.analysis.evaluation import evaluate
from core.runs import RECORD_FILE, RunStore
from dashboard import state
from tests.support.apptest import HOME, TIMEOUT, assert_no_exception, button, charts, go, load_run, texts
from tests.support.tiny_runs import private_copy


@pytest.fixture(scope="module")
def runs(tiny_runs, tmp_path_factory):
    """Two MLPs (trained 2 and 1 epochs) and a CNN trained on the sample, and a fourth run recorded as trained on
    full MNIST. Read-only."""
    root, ids = tiny_runs.store_with(
        tmp_path_factory.mktemp("compare-runs"), alpha="alpha-2-epochs", beta="beta", gamma="gamma"
    )
    other = root / "20000101-000000-full-mnist"
    shutil.copytree(root / ids["beta"], other)
    record = json.loads((other / RECORD_FILE).read_text())
    record["data"].update(source="keras", description="full MNIST from Keras' dataset module", train=60000, test=10000)
    record.update(created="2000-01-01T00:00:00+00:00", run_id=other.name)
    (other / RECORD_FILE).write_text(json.dumps(record))
    ids["full"] = other.name
    return root, ids


@pytest.fixture
def store_copy(runs, tmp_path):
    """A private, writable copy of the module's store (for tests that edit or delete)."""
    return private_copy(runs, tmp_path)


def open_app(monkeypatch, runs_dir: Path, page: str | None = None, **params) -> AppTest:
    monkeypatch.setenv("RUNS_DIR", str(runs_dir))
    at = AppTest.from_file(str(HOME), default_timeout=TIMEOUT)
    at.query_params.update(params)
    at.run()
    assert_no_exception(at)
    return go(at, page) if page else at


def evaluations_of(root: Path, run_ids, sample_data):
    store = RunStore(root)
    return [(run_id, evaluate(store.load_model(run_id), sample_data.x_test, sample_data.y_test)) for run_id in run_ids]


def markdown(at: AppTest) -> list[str]:
    return texts(at.main.markdown)


def image_captions(at: AppTest) -> list[str]:
    return [c for c in texts(at.main.caption) if c.startswith("true **")]


# ---- Compare -----------------------------------------------------------------------------------------


def test_a_link_compares_two_runs_with_table_test_curves_and_differences(monkeypatch, runs, sample_data):
    root, ids = runs
    at = open_app(monkeypatch, root, "compare", compare=f"{ids['alpha']},{ids['beta']}")
    assert at.multiselect(key="compare_picker").value == [ids["alpha"], ids["beta"]]
    expected = compare(evaluations_of(root, [ids["alpha"], ids["beta"]], sample_data))
    scores = at.main.dataframe[0].value
    assert list(scores["model"]) == [ids["alpha"], ids["beta"]]
    assert list(scores["accuracy"]) == pytest.approx([s.accuracy for s in expected.scores])
    assert list(scores["epochs"]) == [2, 1]
    assert scores["95% interval (Wilson)"][0] == f"{expected.scores[0].low:.2%} – {expected.scores[0].high:.2%}"
    (pair,) = expected.tests
    assert any(pair.sentence in m for m in markdown(at))
    tests_table = at.main.dataframe[1].value
    assert list(tests_table["only the first right"]) == [pair.test.first_only]
    assert "p (Holm)" not in tests_table.columns
    figures = charts(at)
    assert {"compare_curves", "compare_class_differences"} <= set(figures)
    assert {trace["name"] for trace in figures["compare_curves"]["data"]} >= {ids["alpha"], ids["beta"]}
    assert [trace["name"] for trace in figures["compare_class_differences"]["data"]] == [ids["beta"]]
    assert at.query_params["compare"] == f"{ids['alpha']},{ids['beta']}"


def test_the_images_they_disagree_on_say_who_is_right_and_filter_by_digit(monkeypatch, runs, sample_data):
    root, ids = runs
    at = open_app(monkeypatch, root, "compare", compare=f"{ids['alpha']},{ids['gamma']}")
    evaluations = [ev for _, ev in evaluations_of(root, [ids["alpha"], ids["gamma"]], sample_data)]
    everywhere = disagreements(evaluations)
    assert any(
        c.startswith(f"{len(everywhere)} test images on which the models do not all agree")
        for c in texts(at.main.caption)
    )
    digit = int(sample_data.y_test[everywhere[0]])
    at.selectbox(key="disagree_digit").set_value(digit).run()
    assert_no_exception(at)
    captions = image_captions(at)
    assert len(captions) == min(len(disagreements(evaluations, digit)), 32)
    for caption in captions:
        assert caption.startswith(f"true **{digit}**  \nA ")
        marks = re.findall(r"[AB] ([✓✗])(\d)", caption)
        assert len(marks) == 2 and marks[0][1] != marks[1][1]  # they disagree
        assert all((mark == "✓") == (int(predicted) == digit) for mark, predicted in marks)


def test_three_runs_chosen_in_the_picker_are_holm_corrected(monkeypatch, runs):
    root, ids = runs
    at = open_app(monkeypatch, root, "compare")
    at.multiselect(key="compare_picker").set_value([ids["alpha"], ids["beta"], ids["gamma"]]).run()
    assert_no_exception(at)
    tests_table = at.main.dataframe[1].value
    assert len(tests_table) == 3 and "p (Holm)" in tests_table.columns
    assert any("Holm-corrected" in c for c in texts(at.main.caption))
    assert len([m for m in markdown(at) if "more accurate than" in m or "No significant difference" in m]) == 3
    assert at.query_params["compare"] == ",".join([ids["alpha"], ids["beta"], ids["gamma"]])


def test_a_run_trained_on_other_data_is_refused_with_a_clear_message(monkeypatch, runs):
    root, ids = runs
    at = open_app(monkeypatch, root, "compare", compare=f"{ids['alpha']},{ids['full']}")
    warnings = texts(at.main.warning)
    assert any(
        w.startswith(f"{ids['full']} was trained and tested on other data (full MNIST") and "same test set" in w
        for w in warnings
    )
    assert ids["full"] not in at.multiselect(key="compare_picker").options
    assert "Choose two or more models to compare." in texts(at.main.info)
    assert not charts(at)


def test_the_active_ensemble_is_compared_with_its_members(monkeypatch, runs):
    root, ids = runs
    at = open_app(monkeypatch, root, "compare", ensemble=f"{ids['alpha']},{ids['beta']}")
    picker = at.multiselect(key="compare_picker")
    assert picker.value[0] == "active"
    picker.set_value(["active", ids["alpha"], ids["beta"]]).run()
    assert_no_exception(at)
    assert list(at.main.dataframe[0].value["model"]) == ["ensemble of 2 runs (active)", ids["alpha"], ids["beta"]]
    assert any(
        "No training history (uploaded, or an ensemble): ensemble of 2 runs (active)" in c
        for c in texts(at.main.caption)
    )


# ---- Runs ----------------------------------------------------------------------------------------------


def test_runs_are_listed_sorted_and_filtered(monkeypatch, runs):
    root, ids = runs
    at = open_app(monkeypatch, root, "runs")
    table = at.main.dataframe[0].value
    assert set(table["run"]) == {ids["alpha"], ids["beta"], ids["gamma"], ids["full"]}
    assert list(table["run"])[-1] == ids["full"]  # newest first: the copy is dated 2000
    at.selectbox(key="runs_sort").set_value("accuracy").run()
    accuracies = list(at.main.dataframe[0].value["test accuracy"])
    assert accuracies == sorted(accuracies, reverse=True)
    at.multiselect(key="runs_archs").set_value(["cnn"]).run()
    assert list(at.main.dataframe[0].value["run"]) == [ids["gamma"]]
    at.multiselect(key="runs_archs").set_value([]).run()
    at.text_input(key="runs_search").set_value("nothing like this").run()
    assert "No run matches these filters." in texts(at.main.info)


def test_a_run_is_renamed_tagged_and_annotated(monkeypatch, store_copy):
    root, ids = store_copy
    at = open_app(monkeypatch, root)
    load_run(at, ids["alpha"])
    go(at, "runs")
    at.selectbox(key="manage_run").set_value(ids["alpha"]).run()
    at.text_input(key=f"run_name_{ids['alpha']}").set_value("Small baseline")
    at.text_input(key=f"run_tags_{ids['alpha']}").set_value("baseline, keep")
    at.text_area(key=f"run_note_{ids['alpha']}").set_value("two epochs only")
    button(at, "Save").click().run()
    assert_no_exception(at)
    annotations = RunStore(root).get(ids["alpha"]).annotations
    assert (annotations.name, annotations.tags, annotations.note) == (
        "Small baseline",
        ("baseline", "keep"),
        "two epochs only",
    )
    assert any("Saved name, tags, note" in s for s in texts(at.main.success))
    assert "“Small baseline”" in " ".join(texts(at.sidebar.success))  # the active run's label follows
    row = at.main.dataframe[0].value.set_index("run").loc[ids["alpha"]]
    assert (row["name"], row["tags"], row["note"]) == ("Small baseline", "baseline, keep", "two epochs only")
    at.selectbox(key="runs_tag").set_value("keep").run()
    assert list(at.main.dataframe[0].value["run"]) == [ids["alpha"]]


def test_two_sessions_editing_one_run_keep_each_others_changes(monkeypatch, store_copy):
    root, ids = store_copy
    first, second = open_app(monkeypatch, root, "runs"), open_app(monkeypatch, root, "runs")
    for at in (first, second):
        at.selectbox(key="manage_run").set_value(ids["beta"]).run()
    first.text_input(key=f"run_name_{ids['beta']}").set_value("renamed by the first")
    second.text_area(key=f"run_note_{ids['beta']}").set_value("noted by the second")
    button(second, "Save").click().run()
    button(first, "Save").click().run()  # its form still shows the old note: only its name is written
    annotations = RunStore(root).get(ids["beta"]).annotations
    assert (annotations.name, annotations.note) == ("renamed by the first", "noted by the second")


def test_deleting_needs_confirmation_and_another_session_keeps_its_model(monkeypatch, store_copy):
    root, ids = store_copy
    viewer = open_app(monkeypatch, root)
    load_run(viewer, ids["gamma"])
    go(viewer, "class_metrics")
    accuracy = {m.label: m.value for m in viewer.main.metric}["Test accuracy"]

    manager = open_app(monkeypatch, root, "runs")
    manager.selectbox(key="manage_run").set_value(ids["gamma"]).run()
    assert button(manager, "Delete run").disabled
    manager.checkbox(key=f"confirm_delete_{ids['gamma']}").check().run()
    button(manager, "Delete run").click().run()
    assert_no_exception(manager)
    assert not (root / ids["gamma"]).exists()
    assert ids["gamma"] not in set(manager.main.dataframe[0].value["run"])
    assert any(f"Deleted {ids['gamma']}" in s for s in texts(manager.main.success))

    state.load_run_model.clear()  # as if the server's cache had dropped the model as well
    state.evaluation_of.clear()
    for page in ("weights", "activations", "class_metrics"):
        go(viewer, page)
        assert ids["gamma"] in " ".join(texts(viewer.sidebar.success))
    assert {m.label: m.value for m in viewer.main.metric}["Test accuracy"] == accuracy
    assert any("Deleted from the run store" in c for c in texts(viewer.sidebar.caption))


def test_a_run_can_be_downloaded_and_loaded_from_the_runs_page(monkeypatch, runs):
    root, ids = runs
    at = open_app(monkeypatch, root, "runs")
    at.selectbox(key="manage_run").set_value(ids["beta"]).run()
    downloads = at.main.get("download_button")
    assert [d.label for d in downloads] == ["Download model (.keras)"]  # the file itself: tests/browser/test_compare.py
    button(at, "Load as the active model").click().run()
    assert_no_exception(at)
    assert ids["beta"] in " ".join(texts(at.sidebar.success))
