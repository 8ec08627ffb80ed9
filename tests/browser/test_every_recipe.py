"""Every page with every recipe and with an ensemble of three deep_cnn runs, server alive throughout.

The Weights page of a deep_cnn once needed ~28 GB and the out-of-memory killer ended the server
with every session on it. The shapes of the models matter here, not their accuracy, so each run
trains one epoch on 1,000 images; the data is the full MNIST when MNIST_DIR is set (as in CI).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.config import ARCHITECTURE_DEFAULTS, TrainConfig
from core.data import load_mnist, load_sample
from core.experiment import run_experiment
from core.runs import RunInfo, RunStore
from dashboard.page_registry import ANALYSIS_PAGES
from dashboard.server_process import (
    free_loopback_port,
    server_environment,
    start_streamlit,
    stop_process_group,
    wait_for_health,
)
from tests.support.browser import (
    APP_TIMEOUT_MS,
    MAIN,
    active_model_alert,
    assert_charts_drawn,
    assert_confusion_matrix_drawn,
    go_to_page,
    load_saved_run,
    open_app,
    screenshot,
    wait_for_images,
)
from tests.support.full_mnist import FULL_MNIST_DIR

RECIPES = tuple(ARCHITECTURE_DEFAULTS)  # every recipe the sidebar offers
ENSEMBLE_SEEDS = (0, 1, 2)  # of deep_cnn: the heaviest ensemble a user builds from the recipes
PAGES_AFTER_LOADING = [page.title for page in ANALYSIS_PAGES]


@dataclass(frozen=True)
class RecipeServer:
    url: str
    process: object
    log_path: Path
    runs: dict[str, RunInfo]  # by recipe, and "deep_cnn-<seed>" for the ensemble's other members

    def assert_alive(self) -> None:
        assert self.process.poll() is None, f"the server died:\n{self.log_path.read_text(errors='replace')[-3000:]}"
        wait_for_health(self.url, self.process, self.log_path)

    def resident_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


@pytest.fixture(scope="module")
def recipe_server(tmp_path_factory) -> Iterator[RecipeServer]:
    root = tmp_path_factory.mktemp("recipe-server")
    runs_dir, keras_home, log_path = root / "runs", root / "keras-home", root / "streamlit.log"
    runs_dir.mkdir()
    keras_home.mkdir()
    mnist_dir = Path(FULL_MNIST_DIR) if FULL_MNIST_DIR else None
    port = free_loopback_port()
    process = start_streamlit(port, server_environment(runs_dir, keras_home, mnist_dir), log_path)
    try:
        data = load_mnist("folder", mnist_dir) if mnist_dir else load_sample()
        store, runs = RunStore(runs_dir), {}
        for arch in RECIPES:
            config = TrainConfig.for_arch(arch, epochs=1, train_limit=1000, name=f"every {arch}")
            runs[arch] = run_experiment(config, data, store).run
        for seed in ENSEMBLE_SEEDS[1:]:
            config = TrainConfig.for_arch("deep_cnn", epochs=1, train_limit=1000, seed=seed, name=f"deep seed {seed}")
            runs[f"deep_cnn-{seed}"] = run_experiment(config, data, store).run
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, process, log_path)
        yield RecipeServer(url, process, log_path, runs)
    finally:
        stop_process_group(process)


def visit_every_page(page, server: RecipeServer, shot_prefix: str) -> None:
    """Each analysis page renders its charts without an exception; the server lives on after each."""
    main = page.locator(MAIN)
    for title in PAGES_AFTER_LOADING:
        go_to_page(page, title)
        expect(main.locator('[data-testid="stException"]')).to_have_count(0)
        if title == "Weights":  # the page that took the server down: its per-digit preference chart
            expect(main.locator(".st-key-unit_preference .js-plotly-plot")).to_be_visible(timeout=APP_TIMEOUT_MS)
        if title == "Per-class metrics":
            assert_confusion_matrix_drawn(page)
        if title == "Activations":
            assert_charts_drawn(page, minimum=2)
        wait_for_images(page)  # an image still loading when the page is left answers 404
        server.assert_alive()
        if title == "Weights":
            screenshot(page, f"{shot_prefix}-weights")
    print(f"{shot_prefix}: server peak resident memory {server.resident_mb():.0f} MB")


@pytest.mark.parametrize("arch", RECIPES)
def test_every_page_with_each_recipe(app, recipe_server, arch):
    page = app.page
    open_app(page, recipe_server.url)
    load_saved_run(page, recipe_server.runs[arch].run_id)
    visit_every_page(page, recipe_server, f"60-recipe-{arch}")
    app.check()


def test_every_page_with_an_ensemble_of_three_deep_cnn(app, recipe_server):
    page = app.page
    members = [recipe_server.runs["deep_cnn"], *(recipe_server.runs[f"deep_cnn-{s}"] for s in ENSEMBLE_SEEDS[1:])]
    open_app(page, f"{recipe_server.url}/?ensemble={','.join(run.run_id for run in members)}")
    expect(active_model_alert(page)).to_contain_text("Active model: ensemble of 3 runs")
    visit_every_page(page, recipe_server, "61-ensemble-deep")
    app.check()
