"""A run stopped part-way carries on from its last finished epoch, with its history, best weights and seconds."""

import json

import keras
import numpy as np
import pytest

from core.checkpoints import BEST_WEIGHTS_FILE, KERAS_BACKUP, STATE_FILE
from core.config import TrainConfig
from core.experiment import run_experiment
from core.runs import RunStore
from core.training import train
from tests.support.training_stops import StopAtEpoch, Stopped


class EpochsRun(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch + 1)


class ZeroBeforeValidation(keras.callbacks.Callback):
    """Makes every epoch it sees the worst possible: all weights zero (uniform guesses) when validated."""

    def on_test_begin(self, logs=None):
        self.model.set_weights([np.zeros_like(weights) for weights in self.model.get_weights()])


def config(**settings):
    return TrainConfig.for_arch("mlp", hidden_units=(16,), seed=3, train_limit=600, **settings)


def stop_before(epoch, config_, data, backup_dir):
    with pytest.raises(Stopped):
        train(config_, data, extra_callbacks=[StopAtEpoch(epoch)], backup_dir=backup_dir)


def test_a_stopped_run_resumes_at_the_epoch_after_its_last_finished_one(small_data, tmp_path):
    settings = config(epochs=4)
    stop_before(3, settings, small_data, tmp_path)
    epochs_run = EpochsRun()
    result = train(settings, small_data, extra_callbacks=[epochs_run], backup_dir=tmp_path)
    assert epochs_run.epochs == [3, 4]
    assert [row["epoch"] for row in result.history] == [1, 2, 3, 4]
    assert result.stopped_epoch == 4 and not result.early_stopped


@pytest.mark.parametrize("schedule", ["one_cycle", "exponential"])
def test_the_schedule_and_optimizer_carry_on(small_data, tmp_path, schedule):
    settings = config(epochs=4, schedule=schedule, batch_size=60)
    stop_before(3, settings, small_data, tmp_path)
    result = train(settings, small_data, backup_dir=tmp_path)
    rates = [row["learning_rate"] for row in result.history]
    uninterrupted = [row["learning_rate"] for row in train(settings, small_data).history]
    assert rates == pytest.approx(uninterrupted)  # a restarted optimizer would repeat the first epochs' rates


def test_the_best_epoch_before_the_stop_is_kept(small_data, tmp_path):
    settings = config(epochs=4)
    stop_before(3, settings, small_data, tmp_path)
    state = json.loads((tmp_path / STATE_FILE).read_text())
    with np.load(tmp_path / BEST_WEIGHTS_FILE) as saved:
        best_before_stop = [saved[name] for name in saved.files]
    result = train(settings, small_data, extra_callbacks=[ZeroBeforeValidation()], backup_dir=tmp_path)
    assert result.best_epoch == state["early_stopping"]["best_epoch"] + 1 <= 2
    for kept, saved in zip(result.model.get_weights(), best_before_stop, strict=True):
        np.testing.assert_array_equal(kept, saved)


def test_seconds_include_the_attempt_that_was_stopped(small_data, tmp_path):
    settings = config(epochs=3)
    stop_before(3, settings, small_data, tmp_path)
    spent_before = json.loads((tmp_path / STATE_FILE).read_text())["seconds"]
    result = train(settings, small_data, backup_dir=tmp_path)
    assert spent_before > 0
    assert result.seconds > spent_before
    assert result.seconds >= sum(row["seconds"] for row in result.history)


def test_the_divergence_limit_stays_the_fresh_models(small_data, tmp_path):
    """Set from the first batch of the first attempt; a resumed model's small loss would make it far too tight."""
    settings = config(epochs=3)
    stop_before(3, settings, small_data, tmp_path)
    limit = json.loads((tmp_path / STATE_FILE).read_text())["divergence_limit"]
    train(settings, small_data, backup_dir=tmp_path)
    assert json.loads((tmp_path / STATE_FILE).read_text())["divergence_limit"] == limit > 40 * 1.0


def test_a_history_ahead_of_the_weights_is_cut_back(small_data, tmp_path):
    """Killed between the two writes after an epoch: the history has an epoch the weights do not."""
    settings = config(epochs=4)
    stop_before(3, settings, small_data, tmp_path)
    state_path = tmp_path / STATE_FILE
    state = json.loads(state_path.read_text())
    state["history"].append({**state["history"][-1], "epoch": 3})
    state_path.write_text(json.dumps(state))
    result = train(settings, small_data, backup_dir=tmp_path)
    assert [row["epoch"] for row in result.history] == [1, 2, 3, 4]


def test_without_a_backup_a_stopped_run_starts_over(small_data):
    settings = config(epochs=3)
    with pytest.raises(Stopped):
        train(settings, small_data, extra_callbacks=[StopAtEpoch(3)])
    epochs_run = EpochsRun()
    train(settings, small_data, extra_callbacks=[epochs_run])
    assert epochs_run.epochs == [1, 2, 3]


def test_saving_the_run_removes_its_backup(small_data, tmp_path):
    backup_dir = tmp_path / "backup"
    settings = config(epochs=3)
    stop_before(2, settings, small_data, backup_dir)
    assert (backup_dir / KERAS_BACKUP).is_dir() and (backup_dir / STATE_FILE).is_file()
    result = run_experiment(settings, small_data, RunStore(tmp_path / "runs"), backup_dir=backup_dir)
    assert len(result.run.record.history) == 3
    assert not backup_dir.exists()
