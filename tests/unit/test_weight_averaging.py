"""Weight averaging: validation, early stopping and the saved model see the averaged weights, training carries on
from the raw ones, and the average survives a stop; the option reaches training from the command line.

The training form's choice is tested with AppTest (tests/app/test_weight_averaging.py); a saved averaged run
loading in plain Keras, in a fresh interpreter (tests/process/test_weight_averaging.py).
"""

import dataclasses
from types import SimpleNamespace

import keras
import numpy as np
import pytest

import core.weight_averaging
from benchmarks.accuracy import recipe
from core.analysis.evaluation import evaluate
from core.cli import main
from core.config import ConfigError, TrainConfig
from core.runs import RunStore
from core.training import train
from core.weight_averaging import adam
from tests.support.training_stops import StopAtEpoch, Stopped

# Averaged over ~100,000 steps without the warm-up, the weights stay those of the first step (about the untrained
# network's) for the few dozen steps these runs take, while the raw weights learn: the two are told apart by their
# accuracy. The `frozen_average` fixture takes the warm-up away for the tests of what sees the average.
FROZEN = 0.99999


@pytest.fixture
def frozen_average(monkeypatch):
    """Keras' own average (no warm-up), so that at FROZEN it stays at the first step's weights."""
    monkeypatch.setattr(
        core.weight_averaging, "update_warmed_up_average", keras.optimizers.Adam._update_model_variables_moving_average
    )


def config(**settings):
    return TrainConfig.for_arch("mlp", hidden_units=(32,), learning_rate=1e-2, seed=3, train_limit=600, **settings)


class OptimizerAverages(keras.callbacks.Callback):
    """The optimizer's averages as each epoch begins and after it ends."""

    def __init__(self):
        super().__init__()
        self.at_end, self.at_begin = [], []

    def _averages(self):
        return [v.numpy().copy() for v in self.model.optimizer.variables if v.name.endswith("average")]

    def on_epoch_begin(self, epoch, logs=None):
        self.at_begin.append(self._averages())

    def on_epoch_end(self, epoch, logs=None):
        self.at_end.append(self._averages())


class ValidatedWeights(keras.callbacks.Callback):
    """The trainable weights each validation saw."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_test_end(self, logs=None):
        self.seen.append([v.numpy().copy() for v in self.model.trainable_variables])


def test_validation_and_the_saved_model_see_the_averaged_weights(small_data, frozen_average):
    result = train(config(epochs=3, weight_averaging=FROZEN), small_data)
    assert all(row["val_accuracy"] < 0.3 for row in result.history)  # the average has not learnt yet
    assert evaluate(result.model, small_data.x_test, small_data.y_test).accuracy < 0.3


def test_training_carries_on_from_the_raw_weights(small_data, frozen_average):
    averaged = train(config(epochs=3, weight_averaging=FROZEN), small_data)
    plain = train(config(epochs=3), small_data)
    assert averaged.history[-1]["accuracy"] > 0.7  # left with the averaged weights, it would not learn
    assert [row["loss"] for row in averaged.history] == pytest.approx([row["loss"] for row in plain.history])


def test_a_moderate_average_gives_a_sensible_model_in_bfloat16_too(small_data):
    result = train(config(epochs=3, weight_averaging=0.9, precision="mixed_bfloat16"), small_data)
    assert result.history[-1]["val_accuracy"] > 0.7
    assert evaluate(result.model, small_data.x_test, small_data.y_test).accuracy > 0.7


def test_the_best_epochs_average_is_kept_not_the_last(small_data, frozen_average):
    # Validation accuracy stays at chance under FROZEN, tied every epoch: early stopping keeps the first.
    validated = ValidatedWeights()
    settings = config(epochs=3, weight_averaging=FROZEN, early_stopping_monitor="val_accuracy")
    result = train(settings, small_data, extra_callbacks=[validated])
    assert result.best_epoch == 1
    kept = result.model.trainable_variables
    assert all(np.array_equal(k.numpy(), first) for k, first in zip(kept, validated.seen[0], strict=True))
    assert not all(np.array_equal(k.numpy(), last) for k, last in zip(kept, validated.seen[-1], strict=True))


def test_a_short_run_averages_its_recent_weights_not_its_first_ones(small_data):
    # About 100 steps at 0.999: without the warm-up the first step's weights would keep 90 % of the average.
    result = train(config(epochs=3, weight_averaging=0.999), small_data)
    assert result.history[-1]["val_accuracy"] > 0.7
    assert evaluate(result.model, small_data.x_test, small_data.y_test).accuracy > 0.7


def test_the_average_warms_up_step_by_step():
    weight = keras.Variable(np.zeros(3, np.float32))
    optimizer = adam(0.1, averaging_decay=0.999)
    expected = None
    for step in range(30):
        optimizer.apply([keras.ops.ones(3)], [weight])
        momentum = 0.0 if step == 0 else min(0.999, (1 + step) / (10 + step))
        raw = weight.numpy()
        expected = raw if expected is None else momentum * expected + (1 - momentum) * raw
    (average,) = [v for v in optimizer.variables if v.name.endswith("average")]
    np.testing.assert_allclose(average.numpy(), expected, rtol=1e-5)
    assert np.all(weight.numpy() < average.numpy())  # it lags the raw weights, which fall by ~0.1 a step


def test_the_average_carries_on_after_a_stop(small_data, tmp_path):
    settings = config(epochs=3, weight_averaging=0.9)
    before_stop = OptimizerAverages()
    with pytest.raises(Stopped):
        train(settings, small_data, extra_callbacks=[before_stop, StopAtEpoch(3)], backup_dir=tmp_path)
    resumed = OptimizerAverages()
    train(settings, small_data, extra_callbacks=[resumed], backup_dir=tmp_path)
    assert len(before_stop.at_end) == 2 and before_stop.at_end[-1]
    assert all(np.array_equal(a, b) for a, b in zip(resumed.at_begin[0], before_stop.at_end[-1], strict=True))


@pytest.mark.parametrize("decay", [1.0, -0.1, float("nan")])
def test_a_decay_out_of_range_is_refused(decay):
    with pytest.raises(ConfigError, match="weight averaging"):
        config(weight_averaging=decay)


def test_runs_saved_before_the_option_load_without_averaging():
    saved = config().to_dict()
    del saved["weight_averaging"]
    assert TrainConfig.from_dict(saved).weight_averaging == 0.0


def test_the_command_line_saves_the_decay(tmp_path):
    args = ["train", "--source", "sample", "--arch", "mlp", "--epochs", "1", "--train-limit", "300"]
    assert main([*args, "--weight-averaging", "0.99", "--runs-dir", str(tmp_path)]) == 0
    (run,), _ = RunStore(tmp_path).list_runs()
    assert run.config.weight_averaging == 0.99


def test_averaged_runs_are_a_recipe_of_their_own_in_the_accuracy_table():
    plain = TrainConfig.for_arch("deep_cnn")
    averaged = dataclasses.replace(plain, weight_averaging=0.999)
    label = recipe(SimpleNamespace(config=averaged))
    assert label == f"{recipe(SimpleNamespace(config=plain))}, weights averaged (0.999)"
