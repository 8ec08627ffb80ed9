"""The command line as users run it, `python -m core` in a fresh interpreter: help without TensorFlow, and
bad values refused without a traceback."""

import subprocess
import sys

from core.cli import COMMANDS

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
    for args in (["--arch", "transformer"], ["--dropout", "2"], ["--hidden-units", "a,b"]):
        done = subprocess.run(
            [sys.executable, "-m", "core", "train", "--source", "sample", "--runs-dir", str(tmp_path), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode != 0
        assert "Traceback" not in done.stderr
        assert "error" in done.stderr.lower()
