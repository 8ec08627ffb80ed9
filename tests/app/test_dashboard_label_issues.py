"""The Label issues page, driven headless with AppTest on the offline sample (1,000 test images).

A saved run, an ensemble and an uploaded model each get a ranking of the test labels; the
training-set section runs K-fold out-of-sample training on a small budget, and can be cancelled.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import core.disputed_labels
from core.analysis.evaluation import evaluate
from core.analysis.label_issues import rank_label_issues
from core.runs import RunStore
from tests.support.apptest import (
    assert_no_exception,
    go,
    load_run,
    press,
    sidebar_success,
    start_app,
    start_app_with_link,
    texts,
    upload,
)

PAGE = "label_issues"
WAIT_SECONDS = 180


@pytest.fixture(scope="module")
def runs(tiny_runs, tmp_path_factory):
    """Two tiny MLP runs (an ensemble needs two). Read-only."""
    return tiny_runs.store_with(tmp_path_factory.mktemp("label-issue-runs"), alpha="alpha", beta="beta")


def tables(at) -> list:
    return [frame.value for frame in at.main.dataframe]


def expected_ranking(store_root, run_id, data) -> np.ndarray:
    model = RunStore(store_root).load_model(run_id)
    evaluation = evaluate(model, data.x_test, data.y_test)
    return rank_label_issues(evaluation.labels, evaluation.probabilities).ranking


def metric_values(at) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.main.metric}


def test_a_saved_runs_suspects_are_ranked_worst_first(monkeypatch, runs, sample_data):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["alpha"])
    go(at, PAGE)
    table = tables(at)[0]
    assert len(table) == 100  # the default "Suspects shown"
    assert table["index"].tolist() == expected_ranking(root, ids["alpha"], sample_data)[:100].tolist()
    assert table["quality score"].is_monotonic_increasing
    assert all(uri.startswith("data:image/png;base64,") for uri in table["image"])
    assert (table["given label"] == sample_data.y_test[table["index"]]).all()
    assert not table["note"].any()  # the offline sample: no disputed labels
    assert any("list does not apply here" in info for info in texts(at.main.info))
    assert "Flagged by confident learning" in metric_values(at)
    assert any(f"Rank **1** · given **{table['given label'][0]}**" in m for m in texts(at.main.markdown))
    (download,) = [b for b in at.main.get("download_button")]
    assert download.proto.label == "Download the ranking (CSV)"


def test_fewer_or_more_suspects_can_be_shown(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["alpha"])
    go(at, PAGE)
    at.select_slider(key="test_shown").set_value(25).run()
    assert_no_exception(at)
    assert len(tables(at)[0]) == 25


def test_an_ensemble_gets_its_own_ranking(monkeypatch, runs, sample_data):
    root, ids = runs
    at = start_app_with_link(monkeypatch, root, ensemble=f"{ids['alpha']},{ids['beta']}")
    assert "ensemble of 2 runs" in sidebar_success(at)
    go(at, PAGE)
    shown = tables(at)[0]["index"].tolist()
    assert shown != expected_ranking(root, ids["alpha"], sample_data)[:100].tolist()
    assert len(shown) == 100 and len(set(shown)) == 100


def test_an_uploaded_model_gets_a_ranking(monkeypatch, tmp_path, uploaded_models):
    at = start_app(monkeypatch, tmp_path / "runs")
    upload(at, uploaded_models["quickstart_logits"])
    go(at, PAGE)
    table = tables(at)[0]
    assert len(table) == 100 and table["quality score"].is_monotonic_increasing


def test_disputed_labels_are_marked_and_counted(monkeypatch, runs, sample_data):
    """As on the standard test set: pretend the two most suspect images are human-disputed."""
    root, ids = runs
    worst = [int(i) for i in expected_ranking(root, ids["alpha"], sample_data)[:2]]
    disputed = frozenset({*worst, 999_999})
    monkeypatch.setattr(core.disputed_labels, "disputed_test_indices", lambda data: disputed)
    at = start_app(monkeypatch, root)
    load_run(at, ids["alpha"])
    go(at, PAGE)
    assert metric_values(at)["Human-disputed labels among the 100 most suspect"] == "2 of 3"
    table = tables(at)[0]
    assert table["note"].tolist()[:3] == ["label disputed", "label disputed", ""]
    assert any("· **label disputed**" in m for m in texts(at.main.markdown))  # the closer look at rank 1

    # Misclassifications marks them too: in the gallery (filtered to the worst suspect's mistake)…
    first = table.iloc[0]
    assert first["given label"] != first["predicted"]  # the worst suspect is a mistake, so the gallery has it
    at.session_state["selected_test_index"] = worst[0]
    go(at, "misclassifications")
    at.selectbox(key="filter_true").set_value(int(first["given label"]))
    at.selectbox(key="filter_predicted").set_value(int(first["predicted"])).run()
    assert_no_exception(at)
    assert any(caption.endswith("· :orange[label disputed]") for caption in texts(at.main.caption))
    # …and in the closer look at the selected image.
    assert any("label disputed" in m for m in texts(at.main.markdown))


def wait_for(at, done, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not done(at):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(1)
        at.run()
        assert_no_exception(at)


def start_budget(at, images: int, epochs: int, folds: int) -> None:
    form_sliders = {slider.label: slider for slider in at.main.select_slider}
    form_sliders["Training images (the first N)"].set_value(images)
    form_sliders["Folds"].set_value(folds)
    (epochs_input,) = [n for n in at.main.number_input if n.label == "Epochs per fold"]
    epochs_input.set_value(epochs)
    press(at, "Start")


def test_the_training_set_is_ranked_on_a_budget(monkeypatch, runs, sample_data):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["alpha"])
    go(at, PAGE)
    start_budget(at, images=500, epochs=1, folds=2)
    wait_for(at, lambda at: len(tables(at)) == 2)
    assert any("500 images · 2 folds · 1 epoch" in s for s in texts(at.main.success))
    train_table = tables(at)[1]
    assert len(train_table) == 100
    assert train_table["index"].max() < 500  # the first 500 training images only
    assert (train_table["given label"] == sample_data.y_train[train_table["index"]]).all()
    assert train_table["quality score"].is_monotonic_increasing
    labels = [button.proto.label for button in at.main.get("download_button")]
    assert labels == ["Download the ranking (CSV)", "Download the training-set ranking (CSV)"]


def test_the_training_set_job_can_be_cancelled(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["alpha"])
    go(at, PAGE)
    start_budget(at, images=4000, epochs=3, folds=5)
    assert any(p.proto.text.startswith("Fold ") for p in at.main.get("progress"))
    press(at, "Cancel")
    wait_for(at, lambda at: any("Cancelled" in w for w in texts(at.main.warning)), seconds=60)
    assert len(tables(at)) == 1  # no training-set table


def test_a_second_visitor_joins_a_running_job_without_control_over_it(monkeypatch, runs):
    root, ids = runs
    first, second = start_app(monkeypatch, root), start_app(monkeypatch, root)
    for at in (first, second):
        load_run(at, ids["alpha"])
        go(at, PAGE)
    start_budget(first, images=4000, epochs=8, folds=3)
    start_budget(second, images=4000, epochs=8, folds=3)  # the same budget: the same job, not a second one
    assert any(p.proto.text.startswith("Fold ") for p in second.main.get("progress"))
    assert "Another visitor started this computation; its result will show here too." in texts(second.main.caption)
    assert "Cancel" not in [b.label for b in second.main.button]
    press(first, "Cancel")
    wait_for(second, lambda at: any("Cancelled" in w for w in texts(at.main.warning)), seconds=60)
