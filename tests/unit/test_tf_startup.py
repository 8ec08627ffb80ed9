"""TensorFlow starts quietly (core/tf_startup.py): only its known start-up notices are dropped from stderr.

A CLI training and the dashboard's start in a fresh interpreter are checked in tests/process/test_tf_startup.py.
"""

from __future__ import annotations

import os

import pytest

from core import tf_startup
from core.tf_startup import NO_GPU_NOTICES, START_UP_NOTICES, stderr_without


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
