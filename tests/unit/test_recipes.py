"""The accuracy and speed recipes, the one-cycle schedule, BatchNorm statistics, ensembles and the tuner."""

import numpy as np
import pytest
import tensorflow as tf

from core.analysis.evaluation import evaluate, predict_probabilities
from core.analysis.inspection import first_layer_weights, predict_digit
from core.augmentation import handwriting_variants, render_batch
from core.batchnorm import RECALIBRATION_IMAGES, batchnorm_layers, recompute_batchnorm_statistics
from core.cli import main
from core.config import HANDWRITING_AUGMENTED, TrainConfig
from core.data import normalize, split_validation
from core.ensemble import build_ensemble, ensemble_members, inspectable_model
from core.errors import ConfigError
from core.models import build_model, learning_rate
from core.runs import RunStore
from core.training import make_dataset, train


@pytest.mark.parametrize("arch", ["fast_cnn", "deep_cnn", "draw_cnn"])
def test_recipes_build_with_batchnorm(arch):
    model = build_model(TrainConfig.for_arch(arch))
    names = [layer.name for layer in model.layers]
    assert any(name.endswith("_bn") for name in names)
    assert model.output_shape == (None, 10) and model.input_shape == (None, 28, 28)
    assert first_layer_weights(model).kind == "conv"


def test_draw_cnn_is_deep_cnns_network_with_handwriting_renderings():
    draw, deep = TrainConfig.for_arch("draw_cnn"), TrainConfig.for_arch("deep_cnn")
    shapes = [w.shape for w in build_model(draw).weights]
    assert shapes == [w.shape for w in build_model(deep).weights]
    assert draw.arch in HANDWRITING_AUGMENTED and deep.arch not in HANDWRITING_AUGMENTED


def test_handwriting_renderings_keep_the_digit_and_its_full_ink():
    digits = np.zeros((2, 28, 28), np.float32)
    digits[:, 6:22, 12:16] = 1.0  # an upright bar, 4 px wide
    variants = [np.asarray(v)[..., 0] for v in handwriting_variants(tf.constant(digits[..., None]))]
    for variant in variants:
        assert variant.shape == (2, 28, 28) and variant.max() == pytest.approx(1.0)
        rows, columns = np.nonzero(variant[0] > 0.5)
        assert 13 <= rows.mean() <= 15 and 12.5 <= columns.mean() <= 15.5  # still the bar, where it was
        assert 12 <= rows.max() - rows.min() + 1 <= 20 and columns.max() - columns.min() + 1 <= 8
    widths = [int((v[0, 14] > 0.5).sum()) for v in variants]
    assert max(widths) > 4 and min(widths) < 4  # thicker and thinner strokes among them


def test_render_batch_renders_part_of_each_batch_and_keeps_the_labels(sample_data):
    images = normalize(sample_data.x_train[:256])
    rendered, labels = render_batch(seed=0)(tf.constant(images), tf.constant(sample_data.y_train[:256]))
    rendered = np.asarray(rendered)
    unchanged = np.all(np.isclose(rendered, images, atol=1e-6), axis=(1, 2))
    assert 0.25 < unchanged.mean() < 0.55  # RENDERED_FRACTION (0.6) of them rendered
    assert rendered.min() >= 0.0 and rendered.max() <= 1.0
    np.testing.assert_array_equal(np.asarray(labels), sample_data.y_train[:256])


def test_only_the_draw_recipe_trains_on_renderings(small_data):
    images, labels = small_data.x_train[:200], small_data.y_train[:200]

    def first_batch(arch):
        config = TrainConfig.for_arch(arch, augment=False, batch_size=200)
        return np.asarray(next(iter(make_dataset(images, labels, config)))[0])

    plain = np.sort(normalize(images).reshape(200, -1), axis=0)  # order-free: the dataset shuffles
    assert np.array_equal(np.sort(first_batch("deep_cnn").reshape(200, -1), axis=0), plain)
    assert not np.allclose(np.sort(first_batch("draw_cnn").reshape(200, -1), axis=0), plain, atol=0.01)


def test_fast_cnn_widths_are_configurable():
    model = build_model(TrainConfig.for_arch("fast_cnn", filters=(8, 16)))
    assert [layer.filters for layer in model.layers if hasattr(layer, "filters")] == [8, 16]


def test_one_cycle_schedule_warms_up_then_anneals_to_zero():
    config = TrainConfig.for_arch("fast_cnn", learning_rate=0.01, epochs=2)
    schedule = learning_rate(config, steps_per_epoch=100)
    rates = [float(schedule(step)) for step in (0, 25, 50, 120, 199, 200)]
    assert rates[0] == pytest.approx(0.001, rel=1e-3)  # starts at a tenth of the peak
    assert rates[2] == pytest.approx(0.01, rel=1e-3)  # peak after 25 % of the steps
    assert rates[0] < rates[1] < rates[2] > rates[3] > rates[4]
    assert rates[5] == pytest.approx(0.0, abs=1e-6)
    assert learning_rate(TrainConfig.for_arch("mlp"), 100) == pytest.approx(1e-3)


def test_one_cycle_learning_rate_is_recorded_per_epoch(small_data):
    config = TrainConfig.for_arch("fast_cnn", epochs=2, train_limit=600, batch_size=64)
    history = train(config, small_data).history
    assert history[-1]["learning_rate"] == pytest.approx(0.0, abs=1e-6)
    assert history[0]["learning_rate"] > 0.001


def test_fast_cnn_defaults_on_the_sample_predict_as_well_as_they_train(sample_data):
    # One epoch of 29 steps: the moving statistics alone would keep most of their start (variance 1); with them
    # an earlier recipe (30 steps) predicted at 58 % where it trained at 95 %.
    config = TrainConfig.for_arch("fast_cnn")
    result = train(config, sample_data)
    test_accuracy = evaluate(result.model, sample_data.x_test, sample_data.y_test).accuracy
    assert test_accuracy >= 0.90
    # Keras' training accuracy is a running mean over the epoch, far behind the end-of-epoch model when there is
    # one epoch: compare with the final model's accuracy on its own training images instead.
    x_train, y_train, _, _ = split_validation(sample_data.x_train, sample_data.y_train, 0.1, config.seed)
    train_accuracy = evaluate(result.model, x_train, y_train).accuracy
    last = result.history[-1]
    assert abs(last["val_accuracy"] - train_accuracy) <= 0.05
    for row in result.history:
        assert row["val_accuracy"] >= row["accuracy"] - 0.05


def test_a_one_epoch_fast_cnn_trial_on_a_small_slice_is_not_at_chance(small_data):
    result = train(TrainConfig.for_arch("fast_cnn", epochs=1), small_data)  # 1,080 images: 5 steps
    assert result.history[0]["val_accuracy"] >= 0.5
    assert evaluate(result.model, small_data.x_test, small_data.y_test).accuracy >= 0.5


def test_batchnorm_statistics_are_those_of_each_layers_inputs_at_inference(sample_data):
    # deep_cnn has dropout between its BatchNorm layers: the statistics must be those seen with dropout off.
    model = build_model(TrainConfig.for_arch("deep_cnn", filters=(8, 16, 32)))
    images = sample_data.x_train[:300]
    assert recompute_batchnorm_statistics(model, images, batch_size=len(images)) == 7
    hidden = normalize(images)
    for layer in model.layers:
        if layer in batchnorm_layers(model):
            values = np.asarray(hidden, dtype=np.float64).reshape(-1, hidden.shape[-1])
            np.testing.assert_allclose(np.asarray(layer.moving_mean), values.mean(0), rtol=1e-3, atol=1e-4)
            np.testing.assert_allclose(np.asarray(layer.moving_variance), values.var(0), rtol=2e-3, atol=1e-6)
        hidden = np.asarray(layer(hidden, training=False))
    # In batches of 100 the figures barely move.
    exact = [np.asarray(layer.moving_variance) for layer in batchnorm_layers(model)]
    recompute_batchnorm_statistics(model, images, batch_size=100)
    for layer, variance in zip(batchnorm_layers(model), exact, strict=True):
        np.testing.assert_allclose(np.asarray(layer.moving_variance), variance, rtol=0.05, atol=1e-4)
    assert recompute_batchnorm_statistics(build_model(TrainConfig.for_arch("cnn")), images) == 0


def test_early_stopping_keeps_an_epochs_weights_with_that_epochs_statistics(small_data):
    config = TrainConfig.for_arch(
        "fast_cnn", epochs=8, patience=1, learning_rate=0.1, schedule="constant", batch_size=64, precision="float32"
    )  # in float32: a bfloat16 run is validated in bfloat16 and handed on in float32 (tests/unit/test_precision.py)
    result = train(config, small_data)
    assert result.early_stopped and result.best_epoch < result.stopped_epoch
    # The kept model predicts exactly as it was validated...
    x_train, _, x_val, y_val = split_validation(small_data.x_train, small_data.y_train, 0.1, config.seed)
    loss, accuracy = result.model.evaluate(normalize(x_val), y_val.astype(np.int32), batch_size=1000, verbose=0)
    best = result.history[result.best_epoch - 1]
    assert accuracy == pytest.approx(best["val_accuracy"], abs=1e-6)
    assert loss == pytest.approx(best["val_loss"], rel=1e-4)
    # ...and its statistics are those of its own weights, not of the last epoch's.
    kept = [np.asarray(layer.moving_variance) for layer in batchnorm_layers(result.model)]
    recompute_batchnorm_statistics(result.model, x_train[:RECALIBRATION_IMAGES])
    for layer, variance in zip(batchnorm_layers(result.model), kept, strict=True):
        np.testing.assert_allclose(np.asarray(layer.moving_variance), variance, rtol=1e-4, atol=1e-7)


def test_ensemble_averages_member_probabilities(small_data):
    members = [
        train(TrainConfig.for_arch("mlp", epochs=1, hidden_units=(h,), seed=h), small_data).model for h in (16, 24)
    ]
    singles = [predict_probabilities(m, small_data.x_test[:20]) for m in members]
    ensemble = build_ensemble(members)
    np.testing.assert_allclose(
        predict_probabilities(ensemble, small_data.x_test[:20]), (singles[0] + singles[1]) / 2, atol=1e-6
    )
    # The Draw page's single-image pass gives the same average.
    np.testing.assert_allclose(
        predict_digit(ensemble, small_data.x_test[0]), (singles[0][0] + singles[1][0]) / 2, atol=1e-6
    )
    assert len(ensemble_members(ensemble)) == 2
    assert inspectable_model(ensemble) is members[0]
    with pytest.raises(ConfigError, match="at least two"):
        build_ensemble(members[:1])


def test_tuner_saves_tagged_trials_and_reports_the_best(tmp_path, capsys):
    code = main(
        [
            "tune",
            "--source",
            "sample",
            "--trials",
            "2",
            "--epochs",
            "1",
            "--train-limit",
            "400",
            "--archs",
            "mlp",
            "--study",
            "unit-study",
            "--runs-dir",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    runs, _ = RunStore(tmp_path).list_runs()
    assert len(runs) == 2
    assert {run.study for run in runs} == {"unit-study"}
    assert sorted(run.config.tags["trial"] for run in runs) == [0, 1]
    assert "best trial" in out and "test accuracy" in out and "val acc" in out


@pytest.mark.parametrize(
    ("option", "value", "complaint"),
    [
        ("--archs", "mlp,transformer", "unknown architecture"),
        ("--trials", "0", "at least 1"),
        ("--minutes", "-1", "greater than 0"),
    ],
)
def test_tuner_refuses_bad_options_before_loading_data(tmp_path, capsys, option, value, complaint):
    with pytest.raises(SystemExit) as exit_info:
        main(["tune", option, value, "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert f"argument {option}" in err and complaint in err


def test_tuner_reports_a_setting_out_of_range_in_one_line(tmp_path, capsys):
    code = main(["tune", "--source", "sample", "--trials", "1", "--train-limit", "5", "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error:") and "train limit" in err and "\n" not in err
