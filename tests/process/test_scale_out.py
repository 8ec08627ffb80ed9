"""Tuning on many workers: three `python -m core tune` workers as separate processes on the offline sample.

One is killed in the middle of a trial, and the test checks what is left: on the journal file always, and
on a throw-away PostgreSQL server (tests/support/postgres_server.py) when its binaries are installed; then
the Studies page (AppTest) loads the best trial's run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from streamlit.testing.v1 import AppTest

from core.runs import RunStore
from core.study_storage import (
    open_storage,
    parse_storage,
)
from core.tuning import RUN_ATTR, WORKER_ATTR, lineage
from tests.support import postgres_server
from tests.support.apptest import HOME
from tests.support.paths import REPO_ROOT

BUDGET = 5  # trials the three workers share
WORKERS = 3
HEARTBEAT, GRACE = 1, 4  # seconds: a dead worker's trial is retried within seconds
WORKER_TIMEOUT = 420


# ---- three workers, one killed -------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL server for the session (skipped only when its binaries are truly missing)."""
    reason = postgres_server.unavailable_reason()
    if reason:
        pytest.skip(reason)
    with postgres_server.throwaway_server() as url:
        yield url


@pytest.fixture(params=["journal", "postgresql"])
def storage_url(request, tmp_path) -> str:
    if request.param == "journal":
        return str(tmp_path / "study.journal")
    return request.getfixturevalue("postgres_url")


def start_worker(storage_url: str, study: str, runs_dir: Path, log: Path) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if key not in ("MNIST_DIR", "STUDY_STORAGE")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    command = [
        sys.executable, "-m", "core", "tune", "--source", "sample", "--archs", "mlp", "--epochs", "1",
        "--train-limit", "1000", "--trials", str(BUDGET), "--study", study, "--storage", storage_url,
        "--heartbeat", str(HEARTBEAT), "--grace", str(GRACE), "--minutes", "6", "--runs-dir", str(runs_dir),
    ]  # fmt: skip
    with log.open("w") as output:
        return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def kill_first_worker_mid_trial(study: optuna.Study, workers: list[subprocess.Popen]) -> subprocess.Popen:
    """SIGKILL the first worker seen running a trial; return it."""
    by_pid = {worker.pid: worker for worker in workers}
    deadline = time.monotonic() + WORKER_TIMEOUT
    while time.monotonic() < deadline:
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            pid = int(trial.user_attrs.get(WORKER_ATTR, ":0").rsplit(":", 1)[1])
            if pid in by_pid:
                os.kill(pid, signal.SIGKILL)
                by_pid[pid].wait(timeout=30)
                return by_pid[pid]
        assert all(worker.poll() is None for worker in workers), "a worker ended before any trial ran"
        time.sleep(0.1)
    raise AssertionError("no worker started a trial")


def test_three_workers_survive_one_killed_mid_trial(storage_url, tmp_path, monkeypatch):
    runs_dir, study_name = tmp_path / "runs", "scale-out"
    reader = open_storage(parse_storage(storage_url, runs_dir), for_workers=False)
    logs = [tmp_path / f"worker-{index}.log" for index in range(WORKERS)]
    workers = [start_worker(storage_url, study_name, runs_dir, log) for log in logs]
    try:
        while True:  # the first worker creates the study
            try:
                study = optuna.load_study(study_name=study_name, storage=reader)
                break
            except KeyError:
                assert all(w.poll() is None for w in workers), [log.read_text()[-2000:] for log in logs]
                time.sleep(0.2)
        victim = kill_first_worker_mid_trial(study, workers)
        survivors = [worker for worker in workers if worker is not victim]
        for worker in survivors:
            assert worker.wait(timeout=WORKER_TIMEOUT) == 0, [log.read_text()[-3000:] for log in logs]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    trials = optuna.load_study(study_name=study_name, storage=reader).get_trials()
    killed = [t for t in trials if t.user_attrs.get(WORKER_ATTR, "").endswith(f":{victim.pid}")]
    assert killed and killed[-1].state == TrialState.FAIL  # the trial it was running when killed
    retried = {number for trial in trials for number in trial.system_attrs.get("retry_history", ())}
    for trial in trials:  # every trial ended complete (or pruned), or failed and was retried until it did
        assert trial.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL), trial
        if trial.state == TrialState.FAIL:
            assert trial.number in retried, trial
            assert any(
                t.state in (TrialState.COMPLETE, TrialState.PRUNED) and lineage(t) == lineage(trial) for t in trials
            ), trial
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert BUDGET <= len(finished) <= BUDGET + WORKERS - 1

    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    runs, damaged = RunStore(runs_dir).list_runs()
    assert not damaged
    assert len(runs) == len(complete)  # nothing saved twice, nothing saved for a failed or pruned trial
    for trial in complete:  # each complete trial has exactly one run, the one it names
        mine = [run for run in runs if run.config.tags == {"study": study_name, "trial": lineage(trial)}]
        assert [run.run_id for run in mine] == [trial.user_attrs[RUN_ATTR]], trial.number

    best_run = optuna.load_study(study_name=study_name, storage=reader).best_trial.user_attrs[RUN_ATTR]
    assert_dashboard_loads_the_best_trial(monkeypatch, runs_dir, storage_url, best_run)


def assert_dashboard_loads_the_best_trial(monkeypatch, runs_dir: Path, storage_url: str, best_run: str) -> None:
    monkeypatch.setenv("RUNS_DIR", str(runs_dir))
    monkeypatch.setenv("STUDY_STORAGE", storage_url)
    at = AppTest.from_file(str(HOME), default_timeout=120)
    at.run()
    at.switch_page("../pages/studies.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="study_name").value == "scale-out"
    shown = " ".join(element.value for element in [*at.main.caption, *at.main.markdown, *at.main.info])
    assert str(runs_dir) not in shown and "tuner@" not in shown  # no server folder, no database user for visitors
    assert {"study_best_so_far"} <= {chart.key for chart in at.main.get("plotly_chart")}
    picker = at.selectbox(key="study_trial_to_load")
    assert picker.options[0].endswith("· best")  # best first
    # A new visitor starts on the best validation score, the study's best trial: load another, then the best.
    for index in (-1, 0):
        at.selectbox(key="study_trial_to_load").select_index(index % len(picker.options)).run()
        at.button(key="study_load_run").click().run()
        assert not at.exception, [e.value for e in at.exception]
        active = at.session_state["active_model"]
        assert (active.run.run_id == best_run) == (index == 0 or len(picker.options) == 1)
    assert any(best_run in caption.value for caption in at.main.caption)
