"""What the prediction API's tests share, in process and against a server: the tolerance and a store of two runs."""

from __future__ import annotations

import shutil
from pathlib import Path

from core.config import TrainConfig
from core.experiment import run_experiment
from core.runs import RunStore

TOLERANCE = 1e-5  # a batched pass may sum in another order than a single-image one


def store_of_two_runs(trained_store, sample_data, root: Path) -> tuple[RunStore, list[str]]:
    """A store of its own (the shared one stays read-only): the session's run and a second, smaller MLP."""
    _, result = trained_store
    store = RunStore(root)
    shutil.copytree(result.run.path, store.root / result.run.run_id)
    config = TrainConfig.for_arch("mlp", epochs=1, seed=2, hidden_units=(32,), train_limit=800, name="second")
    second = run_experiment(config, sample_data, store).run
    return store, [result.run.run_id, second.run_id]
