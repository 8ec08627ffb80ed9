"""Keep Streamlit from resetting Keras after every script run.

After each script run, fragment runs included, Streamlit calls `keras.backend.clear_session()` when
Keras is imported (`_clean_problem_modules` in its script runner). That runs a full `gc.collect()`:
0.3–0.45 s holding the GIL with TensorFlow loaded, the same cost `postScriptGC = false` in
.streamlit/config.toml turns off. It made every stroke on the Draw page cost about 0.3 s of server
CPU for a 2 ms prediction, and every Clear twice that. It also swaps Keras' global state and clears
TensorFlow's kernel cache under any training job running in another thread. Nothing here needs it:
the app builds no models in script runs, and loaded models live in Streamlit's resource caches.
Python's own threshold-driven collector still runs.
"""

from __future__ import annotations

import sys
from typing import Any

from streamlit.runtime.scriptrunner import script_runner


def close_pyplot_figures() -> None:
    """The rest of what Streamlit cleans after a run: open Matplotlib figures (none here today)."""
    pyplot: Any = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


def keep_keras_between_runs() -> None:
    """Replace Streamlit's after-run cleanup by one that leaves Keras alone (idempotent)."""
    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = close_pyplot_figures
