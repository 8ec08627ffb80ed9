"""The seed options: activation per hidden layer, early stopping on validation accuracy, grid and random search."""

from __future__ import annotations

import json
import re

import keras
import numpy as np
import optuna
import pytest

from core.cli import main
from core.config import TrainConfig
from core.data import normalize
from core.errors import ConfigError
from core.models import build_model
from core.record import RunRecord
from core.runs import RunStore
from core.training import best_epoch_of, train, training_split
from core.tuning import GRID, grid_space, make_sampler, suggest_config
from tests.support.records import RUN_V1


def hidden_activations(model) -> list[str]:
    """The activation of each layer that has one (Dense, Conv2D, Activation) or is a ReLU, output excluded."""
    names = []
    for layer in model.layers[:-1]:
        if layer.__class__.__name__ == "ReLU":
            names.append("relu")
        elif hasattr(layer, "activation") and layer.activation.__name__ != "linear":
            names.append(layer.activation.__name__)
    return names


# ---- activation ---------------------------------------------------------------------------------


def test_one_activation_applies_to_every_hidden_layer_of_each_architecture():
    expected = {"mlp": 2, "cnn": 3, "fast_cnn": 3, "deep_cnn": 7, "draw_cnn": 7, "kernel_cnn": 5}
    for arch, count in expected.items():
        extra = {"hidden_units": (32, 16)} if arch == "mlp" else {"hidden_units": (16,)} if arch == "cnn" else {}
        config = TrainConfig.for_arch(arch, activation=("tanh",), **extra)
        assert config.hidden_layer_count == count
        assert hidden_activations(build_model(config)) == ["tanh"] * count, arch
    # The default is the seed's relu, with the layers (and names) the convnets always had.
    assert hidden_activations(build_model(TrainConfig.for_arch("fast_cnn"))) == ["relu"] * 3
    assert "conv_1_relu" in [layer.name for layer in build_model(TrainConfig.for_arch("fast_cnn")).layers]


def test_a_list_gives_each_hidden_layer_its_own_activation():
    config = TrainConfig.for_arch("mlp", hidden_units=(64, 32, 16), activation=("relu", "gelu", "sigmoid"))
    assert hidden_activations(build_model(config)) == ["relu", "gelu", "sigmoid"]
    cnn = TrainConfig.for_arch("cnn", hidden_units=(16,), activation=("elu", "selu", "swish"))
    assert hidden_activations(build_model(cnn)) == ["elu", "selu", "silu"]  # Keras calls swish silu


@pytest.mark.parametrize(
    "activation, message",
    [(("relu", "tanh"), "one per hidden layer \\(1 for this mlp\\), not 2"), (("softsign",), "unknown activation")],
)
def test_a_wrong_number_or_an_unknown_activation_is_refused(activation, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig.for_arch("mlp", activation=activation)


def test_configs_saved_before_the_options_load_as_relu_and_validation_loss():
    old = RunRecord.from_dict(json.loads(RUN_V1.read_text(encoding="utf-8"))).config
    assert "activation" not in json.loads(RUN_V1.read_text(encoding="utf-8"))["config"]
    assert old.activation == ("relu",) and old.early_stopping_monitor == "val_loss"
    new = TrainConfig.for_arch("mlp", activation="gelu", early_stopping_monitor="val_accuracy")
    stored = json.loads(json.dumps(new.to_dict()))
    assert stored["activation"] == ["gelu"] and stored["early_stopping_monitor"] == "val_accuracy"
    assert TrainConfig.from_dict(stored) == new


# ---- early stopping monitor ---------------------------------------------------------------------


def test_best_epoch_follows_the_monitor():
    history = [
        {"val_loss": 0.50, "val_accuracy": 0.80},
        {"val_loss": 0.40, "val_accuracy": 0.90},
        {"val_loss": 0.30, "val_accuracy": 0.90},
        {"val_loss": 0.35, "val_accuracy": 0.85},
    ]
    assert best_epoch_of(history, "val_loss") == 3
    assert best_epoch_of(history, "val_accuracy") == 2  # the first of a tie, as Keras keeps it
    assert best_epoch_of([], "val_accuracy") == 0
    with pytest.raises(ConfigError, match="early stopping monitors val_loss or val_accuracy"):
        TrainConfig.for_arch("mlp", early_stopping_monitor="loss")


def test_early_stopping_on_validation_accuracy_keeps_the_most_accurate_epoch(small_data, monkeypatch):
    watchers = []

    class Watched(keras.callbacks.EarlyStopping):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            watchers.append(self)

    monkeypatch.setattr(keras.callbacks, "EarlyStopping", Watched)
    # A high rate makes the validation scores wander (here the lowest loss is at epoch 3, the best accuracy at 2).
    config = TrainConfig.for_arch(
        "mlp", epochs=6, patience=6, learning_rate=0.02, seed=3, early_stopping_monitor="val_accuracy"
    )
    result = train(config, small_data)
    assert [(w.monitor, w.monitor_op.__name__) for w in watchers] == [("val_accuracy", "greater")]
    accuracies = [row["val_accuracy"] for row in result.history]
    assert len(accuracies) == 6
    assert result.best_epoch == int(np.argmax(accuracies)) + 1
    _, _, x_val, y_val = training_split(config, small_data)
    _, accuracy = result.model.evaluate(normalize(x_val), y_val.astype(np.int32), batch_size=1000, verbose=0)
    assert accuracy == pytest.approx(max(accuracies), abs=1e-6)  # the kept weights are that epoch's


# ---- command line -------------------------------------------------------------------------------


def test_train_cli_takes_activation_and_monitor_and_stores_them(tmp_path, capsys):
    args = ["train", "--source", "sample", "--epochs", "1", "--train-limit", "400", "--runs-dir", str(tmp_path)]
    code = main(
        [*args, "--hidden-units", "32,16", "--activation", "tanh,gelu", "--early-stopping-monitor", "val_accuracy"]
    )
    out = capsys.readouterr().out
    assert code == 0 and "(best 1 by val_accuracy)" in out
    (run,), _ = RunStore(tmp_path).list_runs()
    stored = json.loads((run.path / "run.json").read_text(encoding="utf-8"))["config"]
    assert stored["activation"] == ["tanh", "gelu"] and stored["early_stopping_monitor"] == "val_accuracy"
    assert hidden_activations(RunStore(tmp_path).load_model(run.run_id)) == ["tanh", "gelu"]


def test_train_cli_refuses_bad_activations_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--activation", "relu,wiggle", "--runs-dir", str(tmp_path)])
    assert exit_info.value.code == 2 and "unknown activation(s) wiggle" in capsys.readouterr().err
    code = main(["train", "--source", "sample", "--activation", "relu,tanh", "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error:") and "one per hidden layer" in err and "\n" not in err
    assert not any(tmp_path.iterdir())


# ---- samplers -----------------------------------------------------------------------------------


def test_grid_trials_keep_the_architecture_defaults_outside_the_grid():
    trial = optuna.trial.FixedTrial({"arch": "fast_cnn", "activation": "tanh", "learning_rate": 3e-3})
    config = suggest_config(trial, archs=["fast_cnn"], epochs=1, train_limit=None, grid=grid_space(["fast_cnn"]))
    defaults = TrainConfig.for_arch("fast_cnn")
    assert config.activation == ("tanh",) and config.learning_rate == 3e-3 and config.epochs == 1
    assert (config.batch_size, config.dropout, config.schedule) == (defaults.batch_size, 0.0, "one_cycle")
    assert isinstance(make_sampler("tpe", ["mlp"], 0), optuna.samplers.TPESampler)
    assert isinstance(make_sampler("random", ["mlp"], 0), optuna.samplers.RandomSampler)
    with pytest.raises(ConfigError, match="unknown sampler"):
        make_sampler("anneal", ["mlp"], 0)


def test_grid_search_prints_its_grid_first_and_tries_every_point_once(tmp_path, capsys):
    code = main(
        [
            "tune",
            "--sampler",
            "grid",
            "--source",
            "sample",
            "--archs",
            "mlp",
            "--epochs",
            "1",
            "--train-limit",
            "200",
            "--study",
            "grid-study",
            "--runs-dir",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        "grid of 4 points: arch {mlp} × activation {relu, tanh} × learning_rate {0.001, 0.003}; "
        "every other setting is the architecture's default"
    )
    assert lines[1] == "running 4 of them" and lines[2].startswith("study grid-study (grid): 4 trials")
    runs, _ = RunStore(tmp_path).list_runs()
    points = {(run.config.activation, run.config.learning_rate) for run in runs}
    assert len(runs) == 4 and points == {((a,), lr) for a in GRID["activation"] for lr in GRID["learning_rate"]}
    assert {run.config.hidden_units for run in runs} == {(128,)}  # the MLP's default, not searched
    assert re.search(r"^\s+\d+\s+complete\s+0\.\d{4}\s+mlp\s+tanh\s+0\.00300", out, re.MULTILINE)


def test_random_search_saves_its_trials(tmp_path, capsys):
    args = ["tune", "--sampler", "random", "--trials", "2", "--source", "sample", "--archs", "mlp"]
    code = main(
        [*args, "--epochs", "1", "--train-limit", "200", "--study", "random-study", "--runs-dir", str(tmp_path)]
    )
    assert code == 0 and "study random-study (random): 2 trials" in capsys.readouterr().out
    runs, _ = RunStore(tmp_path).list_runs()
    assert len(runs) == 2 and {run.study for run in runs} == {"random-study"}
