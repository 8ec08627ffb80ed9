"""TensorFlow's start-up: its environment, and a first import without the chatter of a CPU-only machine.

TensorFlow's C++ side logs through absl before TF_CPP_MIN_LOG_LEVEL applies, so on every start a
CPU user saw "WARNING: All log messages before absl::InitializeLog()...", "oneDNN custom operations
are on", "Could not find cuda drivers" and, at the first device query, "E0000 ... failed call to
cuInit: ... UNKNOWN ERROR (303)": lines that look like failures and are not. The import and that
query run with file descriptor 2 captured; afterwards every line is written back except those known
notices, so real errors still show. Nothing here hides or disables a GPU: on a machine with an
NVIDIA device a failing cuInit is reported as before. TF_CPP_MIN_LOG_LEVEL=0 or 1 shows everything.
"""

from __future__ import annotations

import glob
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Notices TensorFlow prints while it starts: harmless wherever they appear.
START_UP_NOTICES = [
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"),
    re.compile(r"\] oneDNN custom operations are on\. "),  # core turns them on (see below)
    re.compile(r"\] Could not find cuda drivers on your machine, GPU will not be used\.$"),
]
# What CUDA probing prints where there is no NVIDIA GPU to find.
NO_GPU_NOTICES = [re.compile(r"\] failed call to cuInit: ")]


def set_tensorflow_environment() -> None:
    """TensorFlow's settings, which it reads when first imported (a user's own values win)."""
    # TensorFlow's own C++ INFO and WARNING lines (after start-up) stay out of the output.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # oneDNN's CPU kernels: TensorFlow turns them on by itself only on the newest CPUs (AVX-512 VNNI and
    # later); on an AVX2 machine they train our convnets about 2x faster. TF_ENABLE_ONEDNN_OPTS=0 turns them off.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


_START_LOCK = threading.Lock()  # one start at a time: two threads capturing fd 2 at once would lose stderr
_background_start: threading.Thread | None = None


def start_tensorflow() -> None:
    """Import TensorFlow and list its devices quietly (once per process; entry points call this first).

    Thread-safe: a caller while another thread starts TensorFlow waits until it is started.
    """
    set_tensorflow_environment()
    with _START_LOCK:
        if "tensorflow" in sys.modules or os.environ["TF_CPP_MIN_LOG_LEVEL"] in ("0", "1"):
            return  # already started (or too late to keep it quiet), or the user asked for every line
        with stderr_without(harmless_notices()):
            import tensorflow as tf

            tf.config.list_physical_devices()  # the first device query is where cuInit fails without a GPU


def start_tensorflow_in_background(delay: float = 0.0) -> None:
    """Start TensorFlow on a daemon thread after `delay` seconds, once per process, so that it is ready when needed.

    For a server whose first screen needs no model: it shows at once, and the seconds TensorFlow's
    import takes pass while someone reads it. Whoever needs TensorFlow meanwhile calls
    start_tensorflow(): during the delay it starts TensorFlow itself, later it waits for this start.
    """
    global _background_start
    with _START_LOCK:
        if _background_start is not None or "tensorflow" in sys.modules:
            return
        _background_start = threading.Thread(target=_start_after, args=(delay,), name="start-tensorflow", daemon=True)
        _background_start.start()


def _start_after(delay: float) -> None:
    time.sleep(delay)
    start_tensorflow()


def harmless_notices() -> list[re.Pattern]:
    """The start-up notices, and the failed CUDA probe too unless this machine has an NVIDIA GPU."""
    return START_UP_NOTICES + ([] if has_nvidia_gpu() else NO_GPU_NOTICES)


def has_nvidia_gpu() -> bool:
    """An NVIDIA device node (Linux, containers given a GPU) or WSL's GPU bridge."""
    return bool(glob.glob("/dev/nvidia[0-9]*")) or os.path.exists("/dev/dxg")


@contextmanager
def stderr_without(patterns: list[re.Pattern]) -> Iterator[None]:
    """Capture file descriptor 2 (C++ and Python writes alike); then write back the lines no pattern matches.

    Other threads' stderr lines written meanwhile are delayed, not lost.
    """
    _flush_python_stderr()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep quiet
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            _flush_python_stderr()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode("utf-8", errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not any(p.search(line) for p in patterns)).encode("utf-8")
            while kept:
                kept = kept[os.write(2, kept) :]


def _flush_python_stderr() -> None:
    """Python's buffered stderr text belongs on the side of the swap it was written on."""
    if sys.stderr is not None:
        sys.stderr.flush()
