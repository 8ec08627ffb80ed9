"""The Embedding map page, driven headless with AppTest on the offline sample (1,000 test images).

It renders for a saved run, an ensemble and an uploaded model; a drawing lands on the map; a
t-SNE job starts, reports progress and finishes, and its map is then what the page shows.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from core.analysis import embedding
from dashboard import state
from dashboard.embedding_charts import ERROR
from tests.support.apptest import assert_no_exception, button, go, load_run, press, start_app, texts, upload

PAGE = "embedding_map"
TSNE_WAIT_SECONDS = 90
DRAW_HINT = "Draw a digit on the **Draw** page to see where it lands on this map."


@pytest.fixture(scope="module")
def runs(tiny_runs, tmp_path_factory):
    """Two tiny MLPs trained on the sample (read-only)."""
    return tiny_runs.store_with(tmp_path_factory.mktemp("embedding-runs"), alpha="alpha", beta="beta")


def the_map(at) -> tuple[dict, pd.DataFrame]:
    """The page's one Vega-Lite chart: its spec and its points."""
    (chart,) = at.main.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    tables = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets}
    points = next(table for table in tables.values() if "image" in table.columns)
    return spec, points


def layers(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


def assert_a_map_of_the_sample(at, sample_data, size: int = 1000) -> pd.DataFrame:
    spec, points = the_map(at)
    assert len(points) == size and points["index"].is_unique
    np.testing.assert_array_equal(points["digit"].astype(int), sample_data.y_test[points["index"]])
    assert points["image"].str.startswith("data:image/png;base64,").all()
    encoding = layers(spec)[0]["encoding"]
    assert encoding["color"]["field"] == "digit" and len(set(encoding["color"]["scale"]["range"])) == 10
    assert encoding["tooltip"][0]["field"] == "image"  # vega-tooltip draws a field named image as an image
    errors = points["outcome"] == ERROR
    assert (errors == (points["digit"].astype(int) != points["predicted"])).all()
    assert f"the {int(errors.sum())} the model gets wrong" in " ".join(texts(at.main.caption))
    return points


def test_the_map_of_a_saved_run(monkeypatch, runs, sample_data):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["alpha"])
    go(at, PAGE)
    assert at.select_slider(key="embedding_size").value == 1000  # the whole offline test set
    points = assert_a_map_of_the_sample(at, sample_data)
    assert points[["x", "y"]].std().min() > 0  # spread out, not a collapsed line
    assert DRAW_HINT in texts(at.main.info)
    assert "PCA of the penultimate layer's features" in json.dumps(the_map(at)[0])


def test_a_smaller_sample_keeps_every_digit(monkeypatch, runs, sample_data):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["alpha"])
    go(at, PAGE)
    at.select_slider(key="embedding_size").set_value(500).run()
    assert_no_exception(at)
    points = assert_a_map_of_the_sample(at, sample_data, size=500)
    assert sorted(points["digit"].astype(int).unique()) == list(range(10))


def test_the_map_of_an_ensemble_uses_its_first_member(monkeypatch, runs, sample_data):
    root, ids = runs
    at = start_app(monkeypatch, root)
    at.multiselect(key="ensemble_picker").set_value([ids["alpha"], ids["beta"]]).run()
    press(at, "Load ensemble")
    go(at, PAGE)
    assert any("shows its first member" in caption for caption in texts(at.main.caption))
    assert_a_map_of_the_sample(at, sample_data)


def test_the_map_of_an_uploaded_model(monkeypatch, tmp_path, uploaded_models, sample_data):
    at = start_app(monkeypatch, tmp_path / "runs")
    upload(at, uploaded_models["quickstart_logits"])
    go(at, PAGE)
    assert_a_map_of_the_sample(at, sample_data)


def test_the_last_drawing_is_placed_on_the_map(monkeypatch, runs, sample_data):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["alpha"])
    at.session_state[state.LAST_DRAWN_DIGIT_KEY] = sample_data.x_test[0].astype(np.float32) / 255.0
    go(at, PAGE)
    assert DRAW_HINT not in texts(at.main.info)
    assert any("your last drawing" in caption for caption in texts(at.main.caption))
    spec, points = the_map(at)
    drawn_layers = [layer for layer in layers(spec) if layer["mark"].get("shape") == "diamond"]
    assert len(drawn_layers) == 1
    # The drawing is test image 0: it lands where test image 0 is.
    (chart,) = at.main.get("vega_lite_chart")
    tables = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
    (you,) = [table for table in tables if "label" in table.columns]
    own = points[points["index"] == 0][["x", "y"]].to_numpy()[0]
    np.testing.assert_allclose(you[["x", "y"]].to_numpy()[0], own, atol=1e-3)


def test_a_tsne_map_is_computed_on_request(monkeypatch, runs, sample_data):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["beta"])
    go(at, PAGE)
    at.select_slider(key="embedding_size").set_value(500).run()
    at.radio(key="embedding_method").set_value("t-SNE").run()
    assert_no_exception(at)
    assert "PCA of the penultimate" in json.dumps(the_map(at)[0])  # meanwhile
    press(at, "Compute t-SNE")
    seen_progress = [p.proto.text for p in at.main.get("progress")]
    deadline = time.monotonic() + TSNE_WAIT_SECONDS
    while not any("t-SNE computed in" in c for c in texts(at.main.caption)) and time.monotonic() < deadline:
        time.sleep(1)
        at.run()
        assert_no_exception(at)
        seen_progress += [p.proto.text for p in at.main.get("progress")]
    assert any("t-SNE computed in" in c for c in texts(at.main.caption))
    assert any(text.startswith("t-SNE: iteration") for text in seen_progress)
    assert not at.main.get("progress") and not [b for b in at.main.button if b.label == "Cancel t-SNE"]
    assert "t-SNE of the penultimate layer's features" in json.dumps(the_map(at)[0])
    assert_a_map_of_the_sample(at, sample_data, size=500)

    again = start_app(monkeypatch, root)  # another session: the map is already there
    load_run(again, ids["beta"])
    go(again, PAGE)
    again.select_slider(key="embedding_size").set_value(500).run()
    again.radio(key="embedding_method").set_value("t-SNE").run()
    assert any("t-SNE computed in" in c for c in texts(again.main.caption))
    assert not [b for b in again.main.button if b.label == "Compute t-SNE"]


def test_a_tsne_job_can_be_cancelled(monkeypatch, runs):
    monkeypatch.setattr(embedding, "TSNE_ITERATIONS", 1_000_000)  # runs until cancelled
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["alpha"])
    go(at, PAGE)
    at.radio(key="embedding_method").set_value("t-SNE").run()
    press(at, "Compute t-SNE")
    button(at, "Cancel t-SNE").click()
    at.run()
    deadline = time.monotonic() + TSNE_WAIT_SECONDS
    while not any("t-SNE cancelled." in w for w in texts(at.main.warning)) and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    assert any("t-SNE cancelled." in w for w in texts(at.main.warning))
    assert button(at, "Compute t-SNE")  # it can be started again
