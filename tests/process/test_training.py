"""oneDNN's CPU kernels are on unless TF_ENABLE_ONEDNN_OPTS=0 turns them off, checked in a fresh interpreter."""

import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from tests.support.subprocesses import at_once

ONEDNN_PROBE = (
    "import dashboard.state\n"  # the dashboard's import path: it imports keras itself
    "from tensorflow.python.util import _pywrap_util_port\n"
    "print(_pywrap_util_port.IsMklEnabled())"
)


SETTINGS = (None, "0")  # TF_ENABLE_ONEDNN_OPTS unset, and set to 0


def run_probe(setting: str | None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "TF_ENABLE_ONEDNN_OPTS"}
    if setting is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = setting
    return subprocess.run(
        [sys.executable, "-c", ONEDNN_PROBE],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )


@pytest.fixture(scope="module")
def probes() -> dict[str | None, subprocess.CompletedProcess]:
    """The probe under each setting, both interpreters at once (each imports TensorFlow: seconds of a core)."""
    return dict(zip(SETTINGS, at_once(*(partial(run_probe, setting) for setting in SETTINGS)), strict=True))


@pytest.mark.parametrize("setting, expected", [(None, "True"), ("0", "False")])
def test_onednn_cpu_kernels_are_on_unless_turned_off(probes, setting, expected):
    done = probes[setting]
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == expected
