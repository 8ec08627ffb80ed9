"""Tuning on many workers, in process: study storages, heartbeats and retries, one run per trial, reading a study.

Workers as separate processes, one killed mid-trial, are tested in tests/process/test_scale_out.py.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import keras
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial

from core.__main__ import main
from core.analysis.studies import TrialRow, best_first, parameter_importances, study_overview
from core.config import TrainConfig
from core.record import RunRecord
from core.runs import RunStore
from core.study_storage import (
    HEARTBEAT_ATTR,
    JOURNAL_FILE,
    StorageSpec,
    open_storage,
    parse_storage,
)
from core.tuning import RUN_ATTR, WORKER_ATTR, lineage, run_study, study_progress

# ---- storages ------------------------------------------------------------------------------------


def test_storage_is_the_store_journal_by_default_or_as_named(tmp_path, monkeypatch):
    assert parse_storage(None, tmp_path) == StorageSpec("journal", str(tmp_path / JOURNAL_FILE))
    assert str(tmp_path) not in parse_storage(None, tmp_path).public_name  # no server folder for visitors
    assert parse_storage("journal:~/s.log", tmp_path).location == str(Path("~/s.log").expanduser())
    assert parse_storage("/shared/study.log", tmp_path) == StorageSpec("journal", "/shared/study.log")
    postgres = parse_storage("postgresql://tuner:secret@db.example:5432/optuna", tmp_path)
    assert postgres == StorageSpec("database", "postgresql+psycopg://tuner:secret@db.example:5432/optuna")
    assert "secret" not in postgres.display and "db.example" in postgres.display
    assert postgres.public_name == "postgresql database optuna"  # visitors see no host, user or password
    monkeypatch.setenv("STUDY_STORAGE", "postgres://tuner@db/optuna")
    assert parse_storage(None, tmp_path).location == "postgresql+psycopg://tuner@db/optuna"
    assert parse_storage("", tmp_path).kind == "database"


@pytest.mark.parametrize("url", ["sqlite:///study.db", "sqlite:////tmp/study.db"])
def test_tune_refuses_sqlite_in_one_line_before_loading_data(tmp_path, capsys, url):
    code = main(["tune", "--storage", url, "--source", "folder", "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error: SQLite cannot serve several workers") and "\n" not in err


def test_unreachable_database_is_one_error_line(tmp_path, capsys):
    url = f"postgresql://nobody@/optuna?host={tmp_path}"  # no server on this socket folder
    code = main(["tune", "--storage", url, "--source", "sample", "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: cannot open the study storage") and "\n" not in err


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_journal_heartbeats_fail_a_silent_trial_and_queue_its_retry(tmp_path):
    storage = open_storage(StorageSpec("journal", str(tmp_path / "s.log")), heartbeat=1, grace=2)
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    study.add_trial(create_trial(params={"x": 0.5}, distributions={"x": FloatDistribution(0, 1)}, value=0.5))
    with pytest.warns(UserWarning, match="Heartbeat"):  # Optuna expects study.optimize; we drive it by hand
        trial = study.ask({"x": FloatDistribution(0, 1)})
    storage.set_trial_system_attr(trial._trial_id, HEARTBEAT_ATTR, time.time())
    optuna.storages.fail_stale_trials(study)
    assert study.trials[1].state == TrialState.RUNNING  # beating recently: alive
    storage.set_trial_system_attr(trial._trial_id, HEARTBEAT_ATTR, time.time() - 3)
    optuna.storages.fail_stale_trials(study)
    states = [t.state for t in study.get_trials()]
    assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.WAITING]
    retry = study.get_trials()[2]
    assert retry.params == trial.params and lineage(retry) == trial.number
    assert study_progress(study.get_trials()) == (1, 0, 1)  # the failed trial is not finished: its retry waits


def test_study_progress_counts_failures_without_retry_as_finished():
    dist = {"x": FloatDistribution(0, 1)}
    trials = [
        create_trial(params={"x": 0.1}, distributions=dist, value=0.1),
        create_trial(params={"x": 0.2}, distributions=dist, state=TrialState.PRUNED),
        create_trial(params={"x": 0.3}, distributions=dist, state=TrialState.FAIL),  # diverged: no retry
        create_trial(params={"x": 0.4}, distributions=dist, state=TrialState.FAIL),  # its worker died
        create_trial(params={"x": 0.4}, distributions=dist, state=TrialState.WAITING, system_attrs={}),
    ]
    for number, trial in enumerate(trials):
        trial.number = number
    trials[4].system_attrs = {"failed_trial": 3, "retry_history": [3]}
    assert study_progress(trials) == (3, 0, 1)


# ---- one run per trial ---------------------------------------------------------------------------


def tiny_model() -> keras.Model:
    return keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])


def test_save_once_keeps_the_first_run_of_a_key(tmp_path):
    store = RunStore(tmp_path)

    def save(trial: int):
        key = {"study": "s", "trial": trial}
        return store.save_once(tiny_model(), RunRecord(config=TrainConfig(tags=key)), f"s-trial-{trial}", key)

    (first, saved_first), (second, saved_second), (other, saved_other) = save(3), save(3), save(4)
    assert (saved_first, saved_second, saved_other) == (True, False, True)
    assert second.run_id == first.run_id != other.run_id
    assert len(store.list_runs()[0]) == 2
    assert store.find_tagged({"study": "s", "trial": 3}).run_id == first.run_id
    assert store.find_tagged({"study": "s", "trial": 5}) is None


def test_a_retry_adopts_the_run_its_dead_original_saved(tmp_path, small_data):
    """The original saved its run, then died before telling Optuna: the retry uses that run, trains nothing."""
    store = RunStore(tmp_path / "runs")
    storage = open_storage(StorageSpec("journal", str(tmp_path / "s.log")), heartbeat=1, grace=2)
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    params = {"arch": "mlp", "learning_rate": 1e-3}
    distributions = {"arch": CategoricalDistribution(["mlp"]), "learning_rate": FloatDistribution(3e-4, 1e-2, log=True)}
    study.add_trial(create_trial(params=params, distributions=distributions, state=TrialState.FAIL))
    study.add_trial(
        create_trial(
            params=params,
            distributions=distributions,
            state=TrialState.WAITING,
            system_attrs={"failed_trial": 0, "retry_history": [0]},
        )
    )
    key = {"study": "s", "trial": 0}
    history = ({"epoch": 1, "val_accuracy": 0.75},)
    orphan = store.save(tiny_model(), RunRecord(config=TrainConfig(tags=key), history=history, best_epoch=1))
    result = run_study(small_data, store, study_name="s", trials=1, minutes=1, archs=["mlp"], epochs=1, storage=storage)
    retry = result.study.trials[1]
    assert retry.state == TrialState.COMPLETE and retry.value == 0.75
    assert retry.user_attrs[RUN_ATTR] == orphan.run_id and result.ran == (1,)
    assert len(store.list_runs()[0]) == 1


def test_a_worker_given_up_on_goes_on_and_its_trial_keeps_one_run(tmp_path, small_data, monkeypatch):
    """A worker silent past the grace period (stalled, not dead) sees its trial failed and retried elsewhere.

    It finishes and saves anyway; Optuna refuses its late result, the worker carries on, runs the
    retry itself here, and the retry adopts the run already saved: one run, one complete trial.
    """
    import core.tuning

    spec = StorageSpec("journal", str(tmp_path / "s.log"))
    storage = open_storage(spec, heartbeat=1, grace=1)
    monkeypatch.setattr(type(storage), "record_heartbeat", lambda self, trial_id: None)  # silent
    real_train, calls = core.tuning.train, []

    def stalled_train(config, data, **kwargs):
        calls.append(config.tags["trial"])
        if len(calls) == 1:  # the first trial: another worker gives up on it meanwhile
            other = optuna.load_study(study_name="s", storage=open_storage(spec, heartbeat=1, grace=1))
            running = other.get_trials(deepcopy=False, states=(TrialState.RUNNING,))[0]
            storage.set_trial_system_attr(running._trial_id, HEARTBEAT_ATTR, time.time() - 5)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(other)
        return real_train(config, data, **kwargs)

    monkeypatch.setattr(core.tuning, "train", stalled_train)
    store = RunStore(tmp_path / "runs")
    result = run_study(
        small_data, store, study_name="s", trials=1, minutes=2, archs=["mlp"], epochs=1, train_limit=300,
        storage=storage, pruning=False,
    )  # fmt: skip
    states = [t.state for t in result.study.get_trials()]
    assert states == [TrialState.FAIL, TrialState.COMPLETE] and calls == [0]  # the retry trained nothing
    runs = store.list_runs()[0]
    assert [run.run_id for run in runs] == [result.study.trials[1].user_attrs[RUN_ATTR]]


# ---- reading a study -----------------------------------------------------------------------------


def test_study_overview_lists_trials_and_the_best_so_far():
    dist = {"lr": FloatDistribution(1e-4, 1e-1, log=True)}
    values = [0.80, 0.90, 0.85, None]
    trials = []
    for number, value in enumerate(values):
        state = TrialState.COMPLETE if value is not None else TrialState.FAIL
        trial = create_trial(
            params={"lr": 10 ** -(number + 1)},
            distributions=dist,
            value=value,
            state=state,
            user_attrs={WORKER_ATTR: f"host:{100 + number % 2}", RUN_ATTR: f"run-{number}"},
        )
        trial.number = number
        trials.append(trial)
    overview = study_overview("s", trials)
    assert [row.state for row in overview.rows] == ["complete", "complete", "complete", "fail"]
    assert [c.best_so_far for c in overview.completions] == [0.80, 0.90, 0.90]
    assert overview.best_number == 1 and overview.best_row.run_id == "run-1"
    assert overview.workers == ("host:100", "host:101")
    assert overview.rows[3].run_id is None and overview.counts == {"complete": 3, "fail": 1}


def test_importances_need_a_few_complete_trials():
    study = optuna.create_study(direction="maximize")
    study.add_trial(create_trial(params={"x": 0.5}, distributions={"x": FloatDistribution(0, 1)}, value=0.5))
    assert "needs at least 3 complete trials (1 so far)" in parameter_importances(study).reason
    for x in (0.1, 0.2, 0.7, 0.9):
        dists = {"x": FloatDistribution(0, 1), "y": FloatDistribution(0, 1)}
        study.add_trial(create_trial(params={"x": x, "y": 0.5}, distributions=dists, value=x))
    importances = parameter_importances(study)
    assert importances.values and sum(share for _, share in importances.values) == pytest.approx(1.0)


def test_the_best_trial_leads_the_trials_of_its_score():
    """Workers finish out of order: trial 2 reached 70 % first, so it is the best, ahead of trial 1's 70 %."""

    def row(number: int, value: float) -> TrialRow:
        return TrialRow(number, "complete", value, {}, None, None, None, "", f"run-{number}", None, False)

    rows = [row(0, 0.60), row(1, 0.70), row(2, 0.70), row(3, 0.65)]
    assert best_first(rows, best_number=2) == [2, 1, 3, 0]
    assert best_first(rows, best_number=1) == [1, 2, 3, 0]
