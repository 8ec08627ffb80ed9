"""The command line (`core.cli.main`, in process) end to end on a small subset, and its handling of bad input.

`python -m core` in a fresh interpreter is tested in tests/process/test_cli.py; the tune command with the
recipes (tests/unit/test_recipes.py).
"""

import json
import shutil

import numpy as np
import pytest

from core.analysis.evaluation import predict_probabilities
from core.checkpoints import STATE_FILE
from core.cli import main
from core.config import TrainConfig
from core.runs import RunStore
from core.test_time_augmentation import predict_with_rotations
from core.training import train
from tests.support.mnist_files import write_mnist_folder
from tests.support.training_stops import StopAtEpoch, Stopped


def test_each_command_lists_its_options(capsys):
    for command, option in (("train", "--arch"), ("evaluate", "RUN_ID"), ("tune", "--trials")):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        out = capsys.readouterr().out
        assert exit_info.value.code == 0
        assert f"python -m core {command}" in out and option in out and "--runs-dir" in out


def test_cli_trains_evaluates_saves_and_summarises(tmp_path, capsys):
    code = main(
        [
            "train",
            "--source",
            "sample",
            "--epochs",
            "2",
            "--train-limit",
            "600",
            "--hidden-units",
            "32",
            "--runs-dir",
            str(tmp_path),
            "--name",
            "cli run",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "epoch 1/2" in out and "epoch 2/2" in out
    assert "data source: sample" in out and "test accuracy: 0." in out and "macro F1" in out
    runs, _ = RunStore(tmp_path).list_runs()
    assert len(runs) == 1 and runs[0].run_id.endswith("cli-run")
    assert f"temperature {runs[0].record.calibration.temperature:.3f} (fitted on 60 validation images;" in out
    assert runs[0].config.hidden_units == (32,) and runs[0].config.train_limit == 600


def test_cli_resumes_a_stopped_run_from_its_backup(tmp_path, capsys, sample_data):
    arguments = ["--epochs", "2", "--train-limit", "600", "--hidden-units", "32", "--seed", "4"]
    backup_dir = tmp_path / "backup"
    config = TrainConfig.for_arch("mlp", epochs=2, train_limit=600, hidden_units=(32,), seed=4)
    with pytest.raises(Stopped):
        train(config, sample_data, extra_callbacks=[StopAtEpoch(2)], backup_dir=backup_dir)
    first_epoch = json.loads((backup_dir / STATE_FILE).read_text())["history"][0]
    code = main(
        [
            "train",
            "--source",
            "sample",
            *arguments,
            "--runs-dir",
            str(tmp_path / "runs"),
            "--backup-dir",
            str(backup_dir),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "resuming from the training state" in out and "epoch 1/2" not in out and "epoch 2/2" in out
    (run,) = RunStore(tmp_path / "runs").list_runs()[0]
    assert run.record.history[0] == first_epoch
    assert not backup_dir.exists()


def test_cli_reports_malformed_data_in_one_line(tmp_path, capsys):
    write_mnist_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08")
    code = main(["train", "--data-dir", str(tmp_path), "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "train-labels-idx1-ubyte" in err and err.startswith("error:")


def test_cli_reports_a_setting_out_of_range_in_one_line(tmp_path, capsys):
    code = main(["train", "--dropout", "2", "--source", "sample", "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error:") and "dropout" in err and "\n" not in err
    assert RunStore(tmp_path).list_runs() == ([], [])


def test_cli_refuses_non_finite_settings_before_training(tmp_path, capsys):
    for option in ("--learning-rate", "--learning-rate-decay", "--dropout", "--l2", "--validation-fraction"):
        code = main(["train", "--source", "sample", "--runs-dir", str(tmp_path), option, "inf"])
        err = capsys.readouterr().err.strip()
        assert code == 2 and err.startswith("error:") and "\n" not in err, err
    assert not any(tmp_path.iterdir())


def test_cli_says_plainly_that_training_diverged_and_saves_nothing(tmp_path, capsys):
    args = ["train", "--source", "sample", "--learning-rate", "50", "--train-limit", "600", "--runs-dir", str(tmp_path)]
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert "\n" not in err
    assert err.startswith("error: training diverged at epoch 1, batch ")
    assert err.endswith("nothing saved; try a lower learning rate")
    assert RunStore(tmp_path).list_runs() == ([], [])


def test_evaluate_cli_scores_each_run_and_their_ensemble(two_sample_runs, capsys, sample_data):
    root, run_ids = two_sample_runs
    store = RunStore(root)

    code = main(["evaluate", *run_ids, "--source", "sample", "--runs-dir", str(root)])

    out = capsys.readouterr().out
    assert code == 0
    probabilities = [predict_probabilities(store.load_model(run_id), sample_data.x_test) for run_id in run_ids]
    for run_id, member in zip(run_ids, probabilities, strict=True):
        accuracy = np.mean(member.argmax(axis=1) == sample_data.y_test)
        assert f"{run_id}: test accuracy {accuracy:.4f}" in out
    ensemble_accuracy = np.mean((probabilities[0] + probabilities[1]).argmax(axis=1) == sample_data.y_test)
    assert f"ensemble of 2: test accuracy {ensemble_accuracy:.4f}" in out


def test_evaluate_cli_scores_with_test_time_rotations_when_asked(two_sample_runs, capsys, sample_data):
    root, run_ids = two_sample_runs
    store = RunStore(root)

    code = main(["evaluate", *run_ids, "--rotations", "--source", "sample", "--runs-dir", str(root)])

    out = capsys.readouterr().out
    assert code == 0
    rotated = [predict_with_rotations(store.load_model(run_id), sample_data.x_test) for run_id in run_ids]
    for run_id, member in zip(run_ids, rotated, strict=True):
        assert (
            f"{run_id} with rotations: test accuracy {np.mean(member.argmax(axis=1) == sample_data.y_test):.4f}" in out
        )
    together = np.mean((rotated[0] + rotated[1]).argmax(axis=1) == sample_data.y_test)
    assert f"ensemble of 2 with rotations: test accuracy {together:.4f}" in out
    assert out.count("with rotations") == 3


def test_evaluate_cli_reports_an_unknown_run_in_one_line(tmp_path, capsys):
    code = main(["evaluate", "no-such-run", "--source", "sample", "--runs-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error: no run 'no-such-run'") and "\n" not in err


# ---- compare -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_sample_runs(tiny_runs, tmp_path_factory):
    """Two tiny MLPs trained on the offline sample (so scored on its 1,000 test images). Read-only."""
    root, ids = tiny_runs.store_with(tmp_path_factory.mktemp("compare-cli"), first="alpha", second="beta")
    return root, list(ids.values())


def test_compare_cli_prints_the_table_and_mcnemars_test(two_sample_runs, capsys, sample_data):
    from core.analysis.comparison import mcnemar_of

    root, ids = two_sample_runs
    code = main(["compare", *ids, "--source", "sample", "--runs-dir", str(root)])
    out = capsys.readouterr().out
    assert code == 0
    store = RunStore(root)
    correct = [
        predict_probabilities(store.load_model(run_id), sample_data.x_test).argmax(axis=1) == sample_data.y_test
        for run_id in ids
    ]
    assert "accuracy" in out and "95% interval" in out and "macro F1" in out and "parameters" in out
    for run_id, right in zip(ids, correct, strict=True):
        assert any(line.startswith(run_id) and f"{right.mean():.4f}" in line for line in out.splitlines())
    test = mcnemar_of(*correct)
    assert f"only the first right on {test.first_only}, only the second on {test.second_only}" in out
    assert "Holm" not in out  # two runs: one test, nothing to correct
    assert "is more accurate than" in out or "No significant difference" in out


def test_compare_cli_refuses_a_run_scored_on_other_data(two_sample_runs, tmp_path, capsys):
    root, ids = two_sample_runs
    copy = tmp_path / "runs"
    shutil.copytree(root, copy)
    record_path = copy / ids[1] / "run.json"
    record = json.loads(record_path.read_text())
    record["data"].update(source="keras", description="full MNIST from Keras' dataset module", train=60000, test=10000)
    record_path.write_text(json.dumps(record))
    code = main(["compare", *ids, "--source", "sample", "--runs-dir", str(copy)])
    captured = capsys.readouterr()
    assert code == 2
    err = captured.err.strip()
    assert err.startswith(f"error: {ids[1]} was trained and tested on other data (full MNIST") and "\n" not in err
    assert "only runs on the same test set can be compared" in err
    assert "McNemar" not in captured.out


def test_compare_cli_needs_two_runs(two_sample_runs, capsys):
    root, ids = two_sample_runs
    assert main(["compare", ids[0], ids[0], "--source", "sample", "--runs-dir", str(root)]) == 2
    assert "at least two different runs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    assert "RUN_ID" in capsys.readouterr().out
