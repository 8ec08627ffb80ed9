"""The accuracy and speed recipes, the one-cycle schedule, ensembles and the tuner."""

import numpy as np
import pytest

from core.analysis.evaluation import predict_probabilities
from core.analysis.inspection import first_layer_weights, predict_digit
from core.cli import main
from core.config import TrainConfig
from core.ensemble import build_ensemble, ensemble_members, inspectable_model
from core.errors import ConfigError
from core.models import build_model, learning_rate
from core.runs import RunStore
from core.training import train


@pytest.mark.parametrize("arch", ["fast_cnn", "deep_cnn"])
def test_recipes_build_with_batchnorm(arch):
    model = build_model(TrainConfig.for_arch(arch))
    names = [layer.name for layer in model.layers]
    assert any(name.endswith("_bn") for name in names)
    assert model.output_shape == (None, 10) and model.input_shape == (None, 28, 28)
    assert first_layer_weights(model).kind == "conv"


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
