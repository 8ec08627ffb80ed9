"""The kernel-size recipe (kernel_cnn): valid convolutions of one size, offered by the CLI and the tuner.

The training form's kernel-size slider is tested with AppTest in tests/app/test_kernel_cnn.py.
"""

import optuna
import pytest

from core.cli import main
from core.config import KERNEL_CNN_FILTERS, TrainConfig
from core.errors import ConfigError
from core.models import build_model
from core.runs import RunStore
from core.tuning import suggest_config


def convolutions(model):
    return [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]


@pytest.mark.parametrize("kernel_size", sorted(KERNEL_CNN_FILTERS))
def test_kernel_cnn_stacks_valid_convolutions_of_one_size_without_pooling(kernel_size):
    config = TrainConfig.for_arch("kernel_cnn", kernel_size=kernel_size)
    model = build_model(config)
    convs = convolutions(model)
    assert [conv.kernel_size for conv in convs] == [(kernel_size, kernel_size)] * len(convs)
    assert tuple(conv.filters for conv in convs) == KERNEL_CNN_FILTERS[kernel_size] == config.filters
    side = 28 - len(convs) * (kernel_size - 1)  # each valid convolution trims kernel_size - 1 pixels
    assert convs[-1].output.shape[1:3] == (side, side)
    assert not any("Pooling" in layer.__class__.__name__ for layer in model.layers)
    assert sum(layer.name.endswith("_bn") for layer in model.layers) == len(convs)
    assert model.output_shape == (None, 10)


def test_kernel_cnn_defaults_to_five_and_keeps_widths_it_is_given():
    assert TrainConfig.for_arch("kernel_cnn").kernel_size == 5
    config = TrainConfig.for_arch("kernel_cnn", kernel_size=3, filters=(8, 8))
    assert config.filters == (8, 8)
    assert [conv.kernel_size for conv in convolutions(build_model(config))] == [(3, 3), (3, 3)]


def test_kernel_cnn_refuses_a_stack_larger_than_the_digit():
    with pytest.raises(ConfigError, match="do not fit a 28×28 digit"):
        TrainConfig.for_arch("kernel_cnn", kernel_size=7, filters=(8, 8, 8, 8, 8))
    with pytest.raises(ConfigError, match="kernel size must be >= 2"):
        TrainConfig.for_arch("kernel_cnn", kernel_size=1)


def test_runs_saved_before_the_kernel_size_field_load_without_it():
    config = TrainConfig.from_dict({"arch": "deep_cnn", "filters": [32, 64, 128]})
    assert config.kernel_size == 0 and config.validated() is config


def test_train_cli_trains_and_saves_a_kernel_cnn_of_the_size_asked(tmp_path, capsys):
    args = ["train", "--arch", "kernel_cnn", "--kernel-size", "7", "--epochs", "1", "--train-limit", "300"]
    assert main([*args, "--source", "sample", "--runs-dir", str(tmp_path)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    (run,), _ = RunStore(tmp_path).list_runs()
    assert run.config.kernel_size == 7 and run.config.filters == KERNEL_CNN_FILTERS[7]
    model = RunStore(tmp_path).load_model(run.run_id)
    assert [conv.kernel_size for conv in convolutions(model)] == [(7, 7)] * 4


def test_tuner_searches_the_kernel_size_with_widths_made_for_it():
    params = {"arch": "kernel_cnn", "kernel_size": 3, "width_scale": 0.5, "activation": "relu"}
    params |= {"learning_rate": 1e-3, "schedule": "one_cycle", "batch_size": 128, "dropout": 0.0}
    params |= {"l2": 0.0, "augment": True}
    config = suggest_config(optuna.trial.FixedTrial(params), archs=["kernel_cnn"], epochs=1, train_limit=None)
    assert config.kernel_size == 3
    assert config.filters == tuple(round(width / 2) for width in KERNEL_CNN_FILTERS[3])
