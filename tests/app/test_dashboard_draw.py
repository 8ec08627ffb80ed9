"""The Draw page recommends the Draw recipe (core.analysis.handwriting) unless it is the loaded model, with AppTest."""

from __future__ import annotations

import pytest

from core.analysis.handwriting import DRAW_RECIPE, MEASURED_MEAN_ACCURACY
from tests.support.apptest import captions, go, load_run, start_app


@pytest.fixture(scope="module")
def runs(tiny_runs, tmp_path_factory):
    """A store with a tiny MLP and a tiny draw_cnn. Read-only."""
    return tiny_runs.store_with(tmp_path_factory.mktemp("draw-dashboard-runs"), mlp="alpha", draw="tiny-draw")


def recommendations(at) -> list[str]:
    return [c for c in captions(at) if f"`{DRAW_RECIPE}` recipe" in c]


def test_draw_recommends_the_draw_recipe_with_its_measured_accuracy(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["mlp"])
    go(at, "draw")
    (tip,) = recommendations(at)
    assert f"{MEASURED_MEAN_ACCURACY[DRAW_RECIPE]:.1%}" in tip and "`deep_cnn`" in tip and "sidebar" in tip


def test_draw_does_not_recommend_the_model_already_loaded(monkeypatch, runs):
    root, ids = runs
    at = start_app(monkeypatch, root)
    load_run(at, ids["draw"])
    go(at, "draw")
    assert recommendations(at) == []
    assert "Draw a digit on the black canvas to see what the model predicts." in [i.value for i in at.main.info]
