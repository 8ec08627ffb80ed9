"""HTML reports for the report tests: two tiny runs, their full report, and a check for remote references.

Shared by the report's own tests (tests/unit/test_report.py, on two runs of the session's catalogue,
tests/support/tiny_runs.py) and the report opened in a browser (tests/browser/test_report.py, on `tiny_runs`).
"""

from __future__ import annotations

import re
from pathlib import Path

from core.config import TrainConfig
from core.experiment import run_experiment
from core.report import build_report, ensemble_model_report, render_html, run_model_report
from core.runs import RunStore

SCRIPT_BLOCK = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)
REMOTE_ATTRIBUTE = re.compile(r"""\b(?:src|href|action|data)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
ROBUSTNESS_IMAGES = 100


def tiny_runs(root: Path, sample_data) -> tuple[RunStore, list[str]]:
    """Two one-epoch MLPs on 600 sample images: seconds to train, enough errors for every section."""
    store = RunStore(root)
    ids = []
    for units, name in ((8, "narrow"), (32, "wide")):
        config = TrainConfig.for_arch("mlp", epochs=1, hidden_units=(units,), train_limit=600, name=name)
        ids.append(run_experiment(config, sample_data, store).run.run_id)
    return store, ids


def full_report(store: RunStore, ids: list[str], data) -> str:
    """Both runs and their ensemble, robustness on a small sample: every section the report has."""
    infos = [store.get(run_id) for run_id in ids]
    models = [run_model_report(store, info, data, ROBUSTNESS_IMAGES) for info in infos]
    models.append(ensemble_model_report(store, infos, data, ROBUSTNESS_IMAGES))
    return render_html(build_report(models, data))


def remote_references(text: str) -> list[str]:
    """src/href/… attributes pointing at another host, outside the scripts (plotly.js mentions map
    attributions in its own strings, which the browser never fetches)."""
    markup = SCRIPT_BLOCK.sub("", text)
    return REMOTE_ATTRIBUTE.findall(markup) + re.findall(r"<script\b[^>]*\bsrc\s*=", text, re.I)
