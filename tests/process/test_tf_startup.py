"""TensorFlow starts quietly (core/tf_startup.py): a CPU user sees only the project's own output, checked in a
fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.paths import REPO_ROOT
from tests.support.tensorflow_logs import CHATTER


def run_python(*args: str) -> subprocess.CompletedProcess:
    """Python in the repository, with TensorFlow's logging settings as a user has them: unset."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TF_")}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=300)


def test_a_short_cli_training_prints_no_tensorflow_chatter(tmp_path):
    done = run_python(
        "-m", "core", "train", "--source", "sample", "--epochs", "1", "--train-limit", "600",
        "--runs-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "test accuracy" in done.stdout
    assert not CHATTER.search(done.stderr), done.stderr


def test_the_dashboard_starts_tensorflow_quietly_in_the_background_while_a_page_waits_for_it():
    # As dashboard/Home.py does: Home shown, the background start; then a page that needs TensorFlow.
    done = run_python(
        "-c",
        "import dashboard.state\n"
        "from core.tf_startup import start_tensorflow, start_tensorflow_in_background\n"
        "start_tensorflow_in_background()\n"
        "start_tensorflow_in_background()  # once per process\n"
        "start_tensorflow()  # waits for the start under way\n"
        "import keras\n"
        "keras.ops.ones(2)\n",
    )
    assert done.returncode == 0, done.stderr
    assert not CHATTER.search(done.stderr), done.stderr
