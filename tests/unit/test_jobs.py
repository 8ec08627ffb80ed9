"""Background training jobs (core/jobs.py): progress, completion, cancellation, failure, concurrency."""

from __future__ import annotations

import base64
import re
import time

import numpy as np
import pytest

from core.config import TrainConfig
from core.data import MnistData
from core.jobs import JobManager, JobStatus, TrainingJob, new_job_id
from core.runs import RunStore

WAIT_SECONDS = 120
POLL_SECONDS = 0.005
JOB_ID = re.compile(r"job-[A-Za-z0-9_-]{22}")  # "job-" and 16 random bytes, base64url without padding


def tiny(name: str, **overrides) -> TrainConfig:
    settings = {"epochs": 1, "hidden_units": (16,), "train_limit": 600, "patience": 50, "name": name}
    return TrainConfig.for_arch("mlp", **{**settings, **overrides})


def watch(job: TrainingJob, until=lambda status: not status.is_active) -> list[JobStatus]:
    """Every status change seen while polling the job, until `until` holds (bounded)."""
    seen = [job.status()]
    deadline = time.monotonic() + WAIT_SECONDS
    while not until(seen[-1]):
        assert time.monotonic() < deadline, f"job stuck in {seen[-1].state}"
        time.sleep(POLL_SECONDS)
        status = job.status()
        if status != seen[-1]:
            seen.append(status)
    return seen


def test_progress_arrives_and_the_finished_run_is_saved(tmp_path, small_data):
    store = RunStore(tmp_path / "runs")
    manager = JobManager()
    job = manager.start(tiny("progress", epochs=3), small_data, store)
    first = job.status()
    assert first.state in ("queued", "running") and first.is_active
    assert first.epochs == 3 and first.run_id is None and first.finished is None
    assert [s.job_id for s in manager.active()] == [job.job_id]

    seen = watch(job)
    final = seen[-1]
    states = [s.state for s in seen]
    assert states[-1] == "done"
    assert "running" in states
    assert set(states) <= {"queued", "running", "done"}
    assert states == sorted(states, key=["queued", "running", "done"].index)  # never goes back

    fractions = [s.fraction_done for s in seen]
    assert fractions == sorted(fractions), "progress went backwards"
    assert len(set(fractions)) > 3 and fractions[-1] == 1.0
    assert 0 < min(f for f in fractions if f > 0) < 1 / 3  # batch events arrive within the first epoch
    running = [s for s in seen if s.state == "running"]
    assert any(s.last_batch_metrics and "loss" in s.last_batch_metrics for s in running)
    lengths = [len(s.history) for s in seen]
    assert lengths == sorted(lengths) and {0, 1, 2, 3} <= set(lengths)  # one row per epoch, in order
    assert [row["epoch"] for row in final.history] == [1, 2, 3]
    assert all({"loss", "accuracy", "val_loss", "val_accuracy"} <= set(row) for row in final.history)
    assert max(s.epoch for s in seen) == 3

    run = store.get(final.run_id)
    assert final.test_accuracy == pytest.approx(run.test_accuracy)
    assert 0.1 < final.test_accuracy <= 1.0
    assert run.config == tiny("progress", epochs=3)
    assert [row["epoch"] for row in run.record.history] == [1, 2, 3]
    assert final.finished is not None and final.elapsed > 0
    assert manager.active() == []
    assert manager.statuses() == [final]
    assert manager.get(job.job_id) is job
    assert manager.get("job-unknown") is None


def test_cancel_stops_the_job_and_saves_nothing(tmp_path, small_data):
    store = RunStore(tmp_path / "runs")
    manager = JobManager()
    job = manager.start(tiny("cancelled", epochs=50), small_data, store)
    watch(job, until=lambda status: status.state == "running")
    started = time.monotonic()
    job.cancel()
    final = job.wait(WAIT_SECONDS)
    assert time.monotonic() - started < 10, "cancelling took too long"
    assert final.state == "cancelled" and not final.is_active
    assert final.run_id is None and final.test_accuracy is None and final.error is None
    assert final.epoch < 50 and final.finished is not None
    assert store.list_runs() == ([], [])
    assert not store.root.exists() or not any(store.root.iterdir())  # no staging folder left behind
    assert manager.active() == []


def test_cancel_before_training_starts(tmp_path, small_data):
    store = RunStore(tmp_path / "runs")
    manager = JobManager()
    job = manager.start(tiny("early cancel", epochs=50), small_data, store)
    job.cancel()
    final = job.wait(WAIT_SECONDS)
    assert final.state == "cancelled"
    assert len(final.history) <= 1
    assert store.list_runs() == ([], [])


def test_a_failing_job_reports_a_readable_error_and_the_manager_keeps_working(tmp_path, small_data):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the run store should be", encoding="utf-8")
    manager = JobManager()
    failing = manager.start(tiny("doomed"), small_data, RunStore(blocker))
    status = failing.wait(WAIT_SECONDS)
    assert status.state == "failed" and not status.is_active
    assert "cannot write to the run store" in status.error and str(blocker) in status.error
    assert status.run_id is None and status.finished is not None
    assert blocker.read_text(encoding="utf-8") == "a file where the run store should be"

    # An unexpected error (not one of ours) is reported too, with its type.
    bad_data = MnistData(
        np.zeros((600, 20, 20), np.uint8),
        np.zeros(600, np.uint8),
        np.zeros((10, 20, 20), np.uint8),
        np.zeros(10, np.uint8),
        "sample",
        "images of the wrong size",
    )
    broken = manager.start(tiny("wrong shapes"), bad_data, RunStore(tmp_path / "runs"))
    status = broken.wait(WAIT_SECONDS)
    assert status.state == "failed"
    assert status.error and status.error.split(":")[0].endswith("Error"), status.error

    store = RunStore(tmp_path / "runs")
    healthy = manager.start(tiny("after failures"), small_data, store)
    status = healthy.wait(WAIT_SECONDS)
    assert status.state == "done", status.error
    assert [run.run_id for run in store.list_runs()[0]] == [status.run_id]
    assert [s.state for s in manager.statuses()] == ["done", "failed", "failed"]
    assert manager.active() == []


def test_a_diverging_job_fails_saying_so_and_saves_nothing(tmp_path, small_data):
    store = RunStore(tmp_path / "runs")
    job = JobManager().start(tiny("diverging", epochs=3, learning_rate=50.0), small_data, store)
    status = job.wait(WAIT_SECONDS)
    assert status.state == "failed" and not status.is_active
    assert status.error.startswith("training diverged at epoch 1, batch ")
    assert status.error.endswith("nothing saved; try a lower learning rate")
    assert status.run_id is None and status.test_accuracy is None
    assert store.list_runs() == ([], [])


class IdleJob:
    """A job that never trains: for testing the manager's bookkeeping alone."""

    def __init__(self, job_id, config, data, store):
        self.job_id = job_id

    def start(self) -> None:
        pass


def test_job_ids_are_128_random_bits_and_unique():
    ids = [new_job_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(JOB_ID.fullmatch(job_id) for job_id in ids)
    assert {len(base64.urlsafe_b64decode(job_id.removeprefix("job-") + "==")) for job_id in ids} == {16}
    # Nothing sequential or clock-based: no two of them even share their first eight random characters.
    assert len({job_id[:12] for job_id in ids[:1000]}) == 1000


def test_the_manager_finds_a_job_only_by_its_exact_id(small_data):
    manager = JobManager(job_factory=IdleJob)
    jobs = [manager.start(tiny(f"idle {n}"), small_data, None) for n in range(20)]
    ids = [job.job_id for job in jobs]
    assert len(set(ids)) == 20 and all(JOB_ID.fullmatch(job_id) for job_id in ids)
    assert all(manager.get(job_id) is job for job_id, job in zip(ids, jobs, strict=True))
    # What a visitor could guess from the old scheme, job-<counter>-<unix seconds>, finds nothing.
    now = int(time.time())
    guesses = [f"job-{n}-{t}" for n in range(1, 21) for t in range(now - 30, now + 2)]
    assert [guess for guess in guesses if manager.get(guess)] == []
    # Nor does a near miss of a real id.
    first = ids[0]
    near_misses = [first[:-1], first + "A", first[:-1] + ("B" if first[-1] == "A" else "A"), first.removeprefix("job-")]
    assert [manager.get(miss) for miss in near_misses] == [None] * 4


def test_two_jobs_at_once_both_finish_as_distinct_runs(tmp_path, small_data):
    store = RunStore(tmp_path / "runs")
    manager = JobManager()
    wide = manager.start(tiny("twin", epochs=2, hidden_units=(16,)), small_data, store)
    narrow = manager.start(tiny("twin", epochs=2, hidden_units=(8,), seed=3), small_data, store)
    assert wide.job_id != narrow.job_id
    assert len(manager.active()) == 2
    statuses = {"wide": wide.wait(WAIT_SECONDS), "narrow": narrow.wait(WAIT_SECONDS)}
    assert all(s.state == "done" for s in statuses.values()), [s.error for s in statuses.values()]
    assert statuses["wide"].run_id != statuses["narrow"].run_id
    runs, damaged = store.list_runs()
    assert damaged == []
    assert {run.run_id for run in runs} == {s.run_id for s in statuses.values()}
    assert store.get(statuses["wide"].run_id).config.hidden_units == (16,)
    assert store.get(statuses["narrow"].run_id).config.hidden_units == (8,)
    for status in statuses.values():
        assert store.get(status.run_id).test_accuracy == pytest.approx(status.test_accuracy)
        assert len(store.get(status.run_id).record.history) == 2
        assert store.load_model(status.run_id).output_shape == (None, 10)
    assert manager.active() == []
