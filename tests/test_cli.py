"""The command line end to end on a small subset, and its handling of bad input."""

import subprocess
import sys

from core.runs import RunStore
from core.train import main
from tests.test_idx import write_mnist_folder


def test_cli_trains_evaluates_saves_and_summarises(tmp_path, capsys):
    code = main(
        [
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
    assert runs[0].config.hidden_units == (32,) and runs[0].config.train_limit == 600


def test_cli_reports_malformed_data_in_one_line(tmp_path, capsys):
    write_mnist_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08")
    code = main(["--data-dir", str(tmp_path), "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "train-labels-idx1-ubyte" in err and err.startswith("error:")


def test_cli_rejects_bad_values_without_traceback(tmp_path):
    for args in (["--arch", "transformer"], ["--dropout", "2"], ["--hidden-units", "a,b"]):
        done = subprocess.run(
            [sys.executable, "-m", "core.train", "--source", "sample", "--runs-dir", str(tmp_path), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode != 0
        assert "Traceback" not in done.stderr
        assert "error" in done.stderr.lower()
