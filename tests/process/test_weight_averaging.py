"""Weight averaging: a run saved with an averaged model loads in plain Keras, in a fresh interpreter without the
project on its path."""

import os
import subprocess
import sys

from core.cli import main
from core.runs import RunStore


def test_a_saved_averaged_run_loads_in_plain_keras(tmp_path):
    args = ["train", "--source", "sample", "--arch", "mlp", "--epochs", "1", "--train-limit", "300"]
    assert main([*args, "--weight-averaging", "0.999", "--runs-dir", str(tmp_path)]) == 0
    (run,), _ = RunStore(tmp_path).list_runs()
    load = f"import keras; keras.models.load_model({str(run.path / 'model.keras')!r}); print('loaded')"
    no_project_path = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", load], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=no_project_path
    )
    assert done.stdout.strip() == "loaded", done.stderr[-2000:]
