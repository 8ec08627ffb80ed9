"""Each architecture builds and trains; progress, early stopping and cancelling work.

Whether oneDNN's CPU kernels are on is checked in a fresh interpreter: tests/process/test_training.py.
"""

import math
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from core.augmentation import augment_batch, make_augmenter
from core.config import TrainConfig
from core.errors import ConfigError, TrainingDivergedError
from core.experiment import run_experiment
from core.models import build_model
from core.runs import RunStore
from core.training import DivergenceGuard, create_training_variables, train


@pytest.mark.parametrize(
    "arch, first_layers",
    [
        ("mlp", ["flatten", "hidden_1", "dropout_1", "output"]),
        ("cnn", ["add_channel", "conv_1", "pool_1", "conv_2", "pool_2", "flatten", "dropout", "output"]),
    ],
)
def test_architectures_build_as_designed(arch, first_layers):
    model = build_model(TrainConfig.for_arch(arch))
    assert [layer.name for layer in model.layers] == first_layers
    assert model.output_shape == (None, 10)
    assert model.optimizer.__class__.__name__ == "Adam"


def test_seed_mlp_is_exactly_the_seed_design():
    model = build_model(TrainConfig.for_arch("mlp"))
    hidden, dropout = model.get_layer("hidden_1"), model.get_layer("dropout_1")
    assert hidden.units == 128 and hidden.activation.__name__ == "relu"
    assert dropout.rate == pytest.approx(0.2)
    assert model.get_layer("output").activation.__name__ == "softmax"
    assert model.count_params() == 784 * 128 + 128 + 128 * 10 + 10


def test_hidden_sizes_dropout_and_l2_are_configurable():
    config = TrainConfig.for_arch("mlp", hidden_units=(64, 32), dropout=0.0, l2=1e-4)
    model = build_model(config)
    assert [layer.name for layer in model.layers] == ["flatten", "hidden_1", "hidden_2", "output"]
    assert model.get_layer("hidden_2").units == 32
    assert model.get_layer("hidden_1").kernel_regularizer is not None


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_each_architecture_trains_one_epoch_with_progress_events(arch, small_data):
    events = []
    config = TrainConfig.for_arch(arch, epochs=1, batch_size=64)
    result = train(config, small_data, listener=events.append)
    kinds = [event.kind for event in events]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    assert kinds.count("epoch") == 1
    batches = [event for event in events if event.kind == "batch"]
    assert len(batches) == int(np.ceil(1080 / 64))  # 90 % of 1,200 for training
    assert batches[-1].fraction_done == pytest.approx(1.0)
    row = result.history[0]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"} <= set(row)
    assert row["learning_rate"] == pytest.approx(1e-3)
    assert result.train_count == 1080 and result.validation_count == 120
    assert row["val_accuracy"] > 0.3  # it learned something in one epoch


def test_early_stopping_keeps_the_best_epoch(small_data):
    # A huge learning rate makes validation loss rise after the first epochs.
    config = TrainConfig.for_arch("mlp", epochs=12, patience=1, learning_rate=0.05, seed=2)
    result = train(config, small_data)
    val_losses = [row["val_loss"] for row in result.history]
    assert result.early_stopped and result.stopped_epoch < 12
    assert result.best_epoch == int(np.argmin(val_losses)) + 1
    assert result.stopped_epoch == result.best_epoch + 1


def test_cancel_flag_stops_training(small_data):
    cancel = threading.Event()
    seen_batches = []

    def cancel_after_three_batches(event):
        if event.kind == "batch":
            seen_batches.append(event.batch)
            if len(seen_batches) == 3:
                cancel.set()

    config = TrainConfig.for_arch("mlp", epochs=5, batch_size=32)
    result = train(config, small_data, listener=cancel_after_three_batches, cancel_event=cancel)
    assert result.cancelled and not result.early_stopped
    assert len(seen_batches) == 3
    assert result.stopped_epoch <= 1


def test_same_seed_gives_same_weights(small_data):
    config = TrainConfig.for_arch("mlp", epochs=1, hidden_units=(16,), seed=5, train_limit=300)
    first = train(config, small_data).model.get_weights()
    second = train(config, small_data).model.get_weights()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_augmentation_changes_batches_but_keeps_labels(small_data):
    images = small_data.x_train[:8].astype(np.float32) / 255
    labels = small_data.y_train[:8]
    apply = augment_batch(make_augmenter(seed=1))
    out_a, labels_a = apply(images, labels)
    out_b, _ = apply(images, labels)
    assert out_a.shape == images.shape
    np.testing.assert_array_equal(np.asarray(labels_a), labels)
    assert np.abs(np.asarray(out_a) - images).mean() > 0.01
    assert np.abs(np.asarray(out_a) - np.asarray(out_b)).mean() > 0.001  # random per call


def test_augmented_training_runs(small_data):
    config = TrainConfig.for_arch("mlp", epochs=1, augment=True, train_limit=400)
    result = train(config, small_data)
    assert len(result.history) == 1


def test_invalid_settings_are_refused():
    with pytest.raises(ConfigError, match="dropout"):
        TrainConfig.for_arch("mlp", dropout=1.5)
    with pytest.raises(ConfigError, match="unknown architecture"):
        TrainConfig.for_arch("transformer")


@pytest.mark.parametrize("setting", ["learning_rate", "dropout", "l2", "validation_fraction"])
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_settings_are_refused(setting, value):
    with pytest.raises(ValueError, match=setting.replace("_", " ").replace("l2", "L2")):
        TrainConfig.for_arch("mlp", **{setting: value})


def test_diverging_training_stops_at_once_and_raises(small_data):
    batches = []
    config = TrainConfig.for_arch("mlp", learning_rate=50.0, epochs=5, train_limit=600)
    with pytest.raises(TrainingDivergedError, match=r"^training diverged at epoch 1, batch \d+ \(loss ") as caught:
        train(config, small_data, listener=lambda event: event.kind == "batch" and batches.append(event.batch))
    error = caught.value
    assert error.epoch == 1 and error.batch == batches[-1]  # no batch ran after the one that blew up
    assert batches == list(range(1, error.batch + 1)) and error.batch < 17  # 540 images: 17 batches an epoch
    assert str(error).endswith("nothing saved; try a lower learning rate")


def test_a_diverged_run_is_not_saved(small_data, tmp_path):
    store = RunStore(tmp_path / "runs")
    config = TrainConfig.for_arch("mlp", learning_rate=50.0, epochs=2, train_limit=600, name="doomed")
    with pytest.raises(TrainingDivergedError, match="diverged"):
        run_experiment(config, small_data, store)
    assert store.list_runs() == ([], [])
    assert not store.root.exists() or not any(store.root.iterdir())


@pytest.mark.parametrize("loss, shown", [(math.nan, "nan"), (math.inf, "inf"), (2.3 * 41, "94")])
def test_the_guard_stops_on_a_non_finite_or_exploded_loss(loss, shown):
    guard = DivergenceGuard()
    guard.set_model(SimpleNamespace(stop_training=False))
    guard.on_epoch_begin(2)
    for batch, value in enumerate([2.3, 2.0, 50.0, loss, 1.0]):
        guard.on_train_batch_end(batch, {"loss": value})
    assert guard.model.stop_training
    assert (guard.diverged.epoch, guard.diverged.batch) == (3, 4)
    assert f"(loss {shown})" in str(guard.diverged)


def test_the_guard_lets_a_noisy_but_sane_run_go_on():
    guard = DivergenceGuard()
    guard.set_model(SimpleNamespace(stop_training=False))
    for batch, value in enumerate([2.3, 7.0, 6.0, 1.5, 0.4]):  # the MLP at learning rate 0.05
        guard.on_train_batch_end(batch, {"loss": value})
    assert guard.diverged is None and not guard.model.stop_training


@pytest.mark.parametrize("arch", ["fast_cnn", "mlp"])
def test_training_variables_exist_before_the_step_is_traced(arch, small_data):
    """A tf.function that creates variables is traced twice; train() creates them first, so fit creates none."""
    model = build_model(TrainConfig.for_arch(arch))
    create_training_variables(model, small_data.x_train[:1], small_data.y_train[:1])
    assert all(value == 0 for value in model.get_metrics_result().values())  # the one image left no trace
    before = {id(v) for v in [*model.variables, *model.optimizer.variables, *model.metrics_variables]}
    images, labels = small_data.x_train[:64] / 255.0, small_data.y_train[:64].astype(np.int32)
    model.fit(images, labels, batch_size=32, epochs=1, verbose=0)
    after = {id(v) for v in [*model.variables, *model.optimizer.variables, *model.metrics_variables]}
    assert after == before
