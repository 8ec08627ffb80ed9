"""The command line as users run it, `python -m core` in a fresh interpreter: help without TensorFlow, and
bad values refused without a traceback."""

import subprocess
import sys
from functools import partial

from core.cli import COMMANDS
from tests.support.subprocesses import at_once

# `python -m core --help`, then whether TensorFlow was imported on the way.
HELP_PROBE = """
import atexit, runpy, sys
atexit.register(lambda: print("tensorflow imported:", "tensorflow" in sys.modules))
sys.argv = ["core", "--help"]
runpy.run_module("core", run_name="__main__", alter_sys=True)
"""


def test_help_lists_every_command_without_loading_tensorflow():
    done = subprocess.run([sys.executable, "-c", HELP_PROBE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert all(command in done.stdout for command in COMMANDS)
    assert "tensorflow imported: False" in done.stdout


def test_cli_rejects_bad_values_without_traceback(tmp_path):
    bad_values = (["--arch", "transformer"], ["--dropout", "2"], ["--hidden-units", "a,b"])
    train = [sys.executable, "-m", "core", "train", "--source", "sample", "--runs-dir", str(tmp_path)]
    runs = [
        partial(subprocess.run, [*train, *args], capture_output=True, text=True, timeout=120) for args in bad_values
    ]
    for done in at_once(*runs):  # three fresh interpreters, each importing TensorFlow before it refuses
        assert done.returncode != 0
        assert "Traceback" not in done.stderr
        assert "error" in done.stderr.lower()
