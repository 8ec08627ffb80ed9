"""The store the dashboard's own tests share: three tiny runs trained on the sample, and private copies of it."""

from __future__ import annotations

import shutil
from pathlib import Path

from core.config import TrainConfig
from core.experiment import run_experiment
from core.runs import RunStore


def three_tiny_runs(root: Path, sample_data) -> tuple[Path, dict[str, str]]:
    """A store with three tiny runs: MLPs with 16 and 24 hidden units, and a CNN; their ids by name."""
    store = RunStore(root)
    configs = {
        "alpha": TrainConfig.for_arch("mlp", epochs=1, hidden_units=(16,), train_limit=600, name="alpha"),
        "beta": TrainConfig.for_arch("mlp", epochs=1, hidden_units=(24,), train_limit=600, name="beta"),
        "gamma": TrainConfig.for_arch("cnn", epochs=1, batch_size=64, train_limit=600, name="gamma"),
    }
    ids = {name: run_experiment(config, sample_data, store).run.run_id for name, config in configs.items()}
    return store.root, ids


def private_copy(runs: tuple[Path, dict[str, str]], tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A private, writable copy of a store from three_tiny_runs (for tests that add to it)."""
    root, ids = runs
    copy = tmp_path / "runs"
    shutil.copytree(root, copy)
    return copy, ids
