"""TensorFlow starts quietly (core/tf_startup.py): a CPU user sees only the project's own output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core import tf_startup
from core.tf_startup import NO_GPU_NOTICES, START_UP_NOTICES, stderr_without

REPO_ROOT = Path(__file__).resolve().parents[1]
# TensorFlow's C++ log lines ("E0000 00:00:1795764036.545291 7056 cuda_platform.cc:52] ...") and their themes.
CHATTER = re.compile(r"^[IWEF]\d{4} |cuInit|CUDA|cuda|absl|oneDNN", re.MULTILINE)


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


def test_only_the_known_notices_are_dropped(capfd):
    known = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
        "I0000 00:00:1795764032.099713    7056 port.cc:153] oneDNN custom operations are on. You may see ...\n",
        "I0000 00:00:1795764032.100775    7056 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
        "GPU will not be used.\n",
        "E0000 00:00:1795764036.545291    7056 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error\n",
    ]
    real = ["E0000 00:00:1795764036.6 7056 op_kernel.cc:1] something real went wrong\n", "Traceback: a real one\n"]
    with stderr_without(START_UP_NOTICES + NO_GPU_NOTICES):
        for line in (known[0], real[0], *known[1:], real[1]):
            os.write(2, line.encode())
    assert capfd.readouterr().err.splitlines(keepends=True) == real


@pytest.mark.parametrize("gpu", [True, False])
def test_a_failing_cuinit_still_shows_where_there_is_a_gpu(capfd, monkeypatch, gpu):
    monkeypatch.setattr(tf_startup, "has_nvidia_gpu", lambda: gpu)
    with stderr_without(tf_startup.harmless_notices()):
        os.write(2, b"E0000 00:00:1.0 1 cuda_platform.cc:52] failed call to cuInit: CUDA_ERROR_NO_DEVICE\n")
    assert ("failed call to cuInit" in capfd.readouterr().err) == gpu
