"""Home paints before TensorFlow loads: its modules, its sidebar and its script run import no TensorFlow.

TensorFlow's import takes seconds (most of the dashboard's cold start). Home and the sidebar need no
model, so dashboard/Home.py starts TensorFlow only before another page, and in the background once
Home has shown. Each check runs in a fresh interpreter: this one imported TensorFlow long ago.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.runs import RunStore
from dashboard.page_registry import HOME, PAGES
from tests.support.paths import REPO_ROOT
from tests.support.tensorflow_logs import CHATTER

HOME_SCRIPT = REPO_ROOT / "dashboard" / "Home.py"
HOME_PAGE = REPO_ROOT / "pages" / HOME.script
MODEL_PAGE = PAGES[1]  # Training curves: the first page that shows the model
TENSORFLOW_MODULES = ("tensorflow", "keras")
SUBPROCESS_TIMEOUT = 600  # TensorFlow's import, a model load and an evaluation on a busy 2-core machine


def run_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Python in a fresh interpreter at the repository root, TensorFlow's logging settings unset as users have them.

    MNIST_DIR is passed only through `env`.
    """
    base = {key: value for key, value in os.environ.items() if not key.startswith("TF_") and key != "MNIST_DIR"}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=REPO_ROOT,
        timeout=SUBPROCESS_TIMEOUT,
    )


def import_statements(script: Path) -> list[str]:
    """A script's top-level import statements, as written."""
    nodes = ast.parse(script.read_text()).body
    return [ast.unparse(node) for node in nodes if isinstance(node, (ast.Import, ast.ImportFrom))]


def test_importing_homes_modules_imports_no_tensorflow():
    statements = [*import_statements(HOME_SCRIPT), *import_statements(HOME_PAGE)]
    assert "from dashboard import state" in statements  # the parse found Home's imports
    done = run_python(
        "\n".join(statements)
        + f"\nimport json, sys\nprint(json.dumps([name for name in {TENSORFLOW_MODULES!r} if name in sys.modules]))\n"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [], "importing Home's modules imported TensorFlow"


# Drives Home, then the first model page, with AppTest in a fresh interpreter. The background start is
# recorded rather than run, so that whatever imported TensorFlow while Home ran shows.
HOME_THEN_MODEL_PAGE = """
import json, sys
import core.tf_startup

background_starts = []
core.tf_startup.start_tensorflow_in_background = lambda **delay: background_starts.append(1)
from streamlit.testing.v1 import AppTest

def loaded():
    return [name for name in ("tensorflow", "keras") if name in sys.modules]

at = AppTest.from_file("dashboard/Home.py", default_timeout=300).run()
home = dict(
    exceptions=[str(e.value) for e in at.exception],
    headings=[t.value for t in at.title],
    sidebar=[s.value for s in at.sidebar.success],
    loaded=loaded(),
    background_starts=len(background_starts),
)
at.switch_page("{model_page}").run()
model_page = dict(
    exceptions=[str(e.value) for e in at.exception],
    headings=[t.value for t in at.title],
    loaded=loaded(),
)
print(json.dumps(dict(home=home, model_page=model_page)))
"""


def data_environment(source: str, sample_data, tmp_path: Path) -> dict[str, str]:
    """MNIST from a folder (MNIST_DIR), or offline: Keras' file neither cached nor downloadable, so the sample."""
    if source == "offline":
        refused = "http://127.0.0.1:9"  # nothing listens there: the download fails at once
        return {
            "KERAS_HOME": str(tmp_path / "keras-home"),
            "HTTP_PROXY": refused,
            "HTTPS_PROXY": refused,
            "http_proxy": refused,
            "https_proxy": refused,
        }
    mnist_dir = tmp_path / "mnist"
    mnist_dir.mkdir()
    d = sample_data
    np.savez(mnist_dir / "mnist.npz", x_train=d.x_train, y_train=d.y_train, x_test=d.x_test, y_test=d.y_test)
    return {"MNIST_DIR": str(mnist_dir)}


@pytest.mark.parametrize("source", ["folder", "offline"])
def test_home_renders_without_tensorflow_and_a_model_page_then_starts_it_quietly(
    trained_store, sample_data, tmp_path, source
):
    store, result = trained_store
    runs_dir = tmp_path / "runs"
    shutil.copytree(store.root, runs_dir)
    RunStore(runs_dir).pin_default(result.run.run_id)  # a new visitor starts with it: an active model on Home

    code = HOME_THEN_MODEL_PAGE.replace("{model_page}", MODEL_PAGE.path)
    done = run_python(code, {"RUNS_DIR": str(runs_dir), **data_environment(source, sample_data, tmp_path)})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    home, model_page = report["home"], report["model_page"]

    assert home["exceptions"] == []
    assert home["headings"][0] == HOME.heading
    assert any(result.run.label in text for text in home["sidebar"]), home["sidebar"]  # the pinned run is active
    assert home["loaded"] == [], "Home imported TensorFlow"
    assert home["background_starts"] == 1  # …and asked for it in the background once shown

    assert model_page["exceptions"] == []
    assert model_page["headings"][0] == MODEL_PAGE.heading
    assert model_page["loaded"] == list(TENSORFLOW_MODULES)
    assert not CHATTER.search(done.stderr), done.stderr  # started through core.tf_startup, quietly
