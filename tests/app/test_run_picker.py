"""The sidebar's "Load a saved run": Load run loads exactly the run chosen, whatever others do meanwhile.

On a shared dashboard another session can rename a run between a visitor's choice and their click on
"Load run". The browser sends the choice back as the option's label, which the rename changed; Streamlit
keeps the value it read at the choice as long as the browser sends the same label, so the click still
loads the chosen run. These tests hold the sidebar to that (tests/browser/test_dashboard_e2e.py does the
same in Chromium).
"""

from __future__ import annotations

import shutil

import pytest

from core.config import TrainConfig
from core.experiment import run_experiment
from core.runs import RunStore
from tests.support.apptest import button, sidebar_success, start_app


@pytest.fixture
def older_and_newest(trained_store, sample_data, tmp_path):
    """A private store: the session's tiny MLP (the older run) and a newer run."""
    shared, older = trained_store
    root = tmp_path / "runs"
    shutil.copytree(shared.root, root)
    config = TrainConfig.for_arch("mlp", epochs=1, hidden_units=(8,), train_limit=300, name="newest")
    newest = run_experiment(config, sample_data, RunStore(root))
    return root, older.run.run_id, newest.run.run_id


def choose(at, run_id: str) -> None:
    """Choose a run in the picker (the choice reruns the app, as in a browser)."""
    at.selectbox(key="run_picker").set_value(run_id)
    at.run()


def test_load_run_loads_the_chosen_run(monkeypatch, older_and_newest):
    root, older, newest = older_and_newest
    at = start_app(monkeypatch, root)
    choose(at, older)
    button(at, "Load run").click()
    at.run()
    assert f"**Active model:** {older} ·" in sidebar_success(at)


def test_a_rename_by_another_session_between_choice_and_click_still_loads_the_chosen_run(monkeypatch, older_and_newest):
    root, older, newest = older_and_newest
    at = start_app(monkeypatch, root)
    choose(at, older)
    RunStore(root).annotate(older, name="renamed meanwhile")  # another session, on the Runs page
    button(at, "Load run").click()
    at.run()
    assert f"**Active model:** {older} “renamed meanwhile”" in sidebar_success(at)
    assert newest not in sidebar_success(at)
    assert at.selectbox(key="run_picker").value == older
