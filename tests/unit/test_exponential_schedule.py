"""The exponential schedule: the learning rate times a fixed factor after every epoch (An et al.'s 0.98)."""

from types import SimpleNamespace

import pytest

from benchmarks.accuracy import recipe
from core.cli import main
from core.config import TrainConfig
from core.errors import ConfigError
from core.models import learning_rate
from core.runs import RunStore
from core.training import train


def mlp(**settings):
    return TrainConfig.for_arch("mlp", hidden_units=(16,), seed=3, train_limit=600, batch_size=60, **settings)


def test_the_rate_steps_down_once_per_epoch_not_per_batch():
    schedule = learning_rate(mlp(learning_rate=0.01, schedule="exponential", learning_rate_decay=0.5), 100)
    rates = [float(schedule(step)) for step in (0, 99, 100, 199, 250)]
    assert rates == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.0025])


def test_each_epoch_records_the_rate_it_leaves_for_the_next(small_data):
    history = train(mlp(epochs=3, learning_rate=0.01, schedule="exponential", learning_rate_decay=0.5), small_data)
    assert [row["learning_rate"] for row in history.history] == pytest.approx([0.005, 0.0025, 0.00125])


def test_the_other_schedules_ignore_the_decay():
    assert learning_rate(mlp(learning_rate_decay=0.5), 100) == pytest.approx(1e-3)
    one_cycle = learning_rate(mlp(schedule="one_cycle", epochs=2, learning_rate_decay=0.5), 100)
    assert float(one_cycle(50)) == pytest.approx(1e-3, rel=1e-3)  # the peak, as without the decay


@pytest.mark.parametrize("decay", [0.0, -0.5, 1.5, float("nan")])
def test_a_decay_outside_zero_to_one_is_refused(decay):
    with pytest.raises(ConfigError, match="decay per epoch"):
        mlp(schedule="exponential", learning_rate_decay=decay).validated()


def test_the_command_line_trains_with_the_decay_it_is_given(tmp_path, capsys):
    args = ["--source", "sample", "--train-limit", "600", "--hidden-units", "16", "--epochs", "2"]
    schedule = ["--schedule", "exponential", "--learning-rate", "0.01", "--learning-rate-decay", "0.5"]
    code = main(["train", *args, *schedule, "--runs-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    (run,), _ = RunStore(tmp_path).list_runs()
    assert (run.config.schedule, run.config.learning_rate_decay) == ("exponential", 0.5)
    assert [row["learning_rate"] for row in run.record.history] == pytest.approx([0.005, 0.0025])


def test_a_decayed_recipe_is_a_recipe_of_its_own_in_the_accuracy_table():
    plain = TrainConfig.for_arch("kernel_cnn", kernel_size=3)
    decayed = TrainConfig.for_arch(
        "kernel_cnn", kernel_size=3, schedule="exponential", learning_rate=1e-3, batch_size=120
    )
    label = recipe(SimpleNamespace(config=decayed))
    assert label == f"{recipe(SimpleNamespace(config=plain))}, batches of 120, learning rate 0.001, × 0.98 per epoch"
